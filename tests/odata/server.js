// SAP's OData mock server on Node's http, with what SAP does and the mock does not:
// CSRF tokens required on writes, and datetimeoffset'...' literals understood in $filter.
const http = require('http');
const crypto = require('crypto');
const FEMockserver = require('@sap-ux/fe-mockserver-core').default;

const ROOT = process.env.MOCK_DIR || `${__dirname}/mock`; // the benchmark brings a bigger one
const SERVICES = ['API_PRODUCT_SRV', 'API_MATERIAL_STOCK_SRV', 'API_SALES_ORDER_SRV', 'API_BUSINESS_PARTNER'];
const mock = new FEMockserver({
  services: SERVICES.map((name) => ({
    urlPath: `/sap/opu/odata/sap/${name}`,
    metadataPath: `${ROOT}/${name}/metadata.xml`,
    mockdataPath: `${ROOT}/${name}/data`,
    generateMockData: false,
  })),
});
const token = crypto.randomBytes(16).toString('hex');
const router = mock.getRouter();

const server = http.createServer((req, res) => {
  const asks = (req.headers['x-csrf-token'] || '').toLowerCase();
  if ((req.method === 'GET' || req.method === 'HEAD') && asks === 'fetch') {
    res.setHeader('x-csrf-token', token);
    delete req.headers['x-csrf-token']; // or the mock answers with a token of its own
  }
  const write = !['GET', 'HEAD', 'OPTIONS'].includes(req.method) && !req.url.includes('/$metadata/reload');
  if (write && req.headers['x-csrf-token'] !== token) {
    res.writeHead(403, { 'x-csrf-token': 'Required', 'content-type': 'text/plain' });
    return res.end('CSRF token validation failed');
  }
  req.url = req.url.replace(/datetimeoffset(%27|')/gi, 'datetime$1');
  router(req, res, () => { res.writeHead(404); res.end(); });
});
mock.isReady.then(() => {
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(`READY ${server.address().port}`));
});
