export { servePglite, type PgliteServer, type PgliteServerOptions } from './pglite-server';
export { isSingleSessionServer } from './single-session';
