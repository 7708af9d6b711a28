// SAP numbers addresses itself.
module.exports = {
  generateKey(property) {
    if (property.name !== 'AddressID') return undefined;
    this.next = (this.next || 3000) + 1;
    return String(this.next);
  },
};
