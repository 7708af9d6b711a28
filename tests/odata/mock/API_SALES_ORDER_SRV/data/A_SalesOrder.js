// SAP numbers sales orders itself and stores a deep insert's to_Item rows as items.
module.exports = {
  generateKey(property) {
    if (property.name !== 'SalesOrder') return undefined;
    this.next = (this.next || 5000000) + 1;
    return String(this.next);
  },
  async onBeforeAddEntry(keys, data) {
    const items = data.to_Item || [];
    delete data.to_Item;
    const store = await this.base.getEntityInterface('A_SalesOrderItem');
    for (const [index, item] of items.entries()) {
      await store.addEntry({ ...item, SalesOrder: data.SalesOrder, SalesOrderItem: item.SalesOrderItem || String((index + 1) * 10) });
    }
  },
};
