// SAP numbers business partners itself.
module.exports = {
  generateKey(property) {
    this.next = (this.next || 1000100) + 1;
    return String(this.next);
  },
};
