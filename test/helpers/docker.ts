export { demux } from '../../src/pool/docker-driver.js';
