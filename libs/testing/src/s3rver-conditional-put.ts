import type S3rver from 's3rver';

/** The slice of Koa's context (s3rver is a Koa application) this middleware reads and writes. */
interface KoaContext {
  method: string;
  path: string;
  querystring: string;
  get(header: string): string;
  status: number;
  type: string;
  body: unknown;
}
/** Query parameters that make a PUT on an object key something other than PutObject. */
const SUBRESOURCES = ['uploadId', 'partNumber', 'tagging', 'acl', 'retention', 'legal-hold'];

type Middleware = (context: KoaContext, next: () => Promise<void>) => Promise<void>;

/** s3rver's internals as this module uses them; its types describe only its public methods. */
interface S3rverInternals {
  middleware: Middleware[];
  store: { existsObject(bucket: string, key: string): Promise<boolean> };
}

/**
 * Makes `server` honour a conditional put, `If-None-Match: *` on PutObject,
 * as S3 has since 2024 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html):
 * a key that exists already is refused with 412 PreconditionFailed, and two
 * such puts of one key are decided one after the other, so exactly one wins.
 * s3rver 3 ignores the header and overwrites, which would hide every test of
 * write-once keys. Path-style requests only, as the tests send them.
 */
export function honourConditionalPuts(server: S3rver): void {
  const internals = server as unknown as S3rverInternals;
  const turns = new Map<string, Promise<void>>();
  const conditionalPut: Middleware = async (context, next) => {
    const [, bucket, ...key] = context.path.split('/');
    const query = new URLSearchParams(context.querystring);
    const onObject = bucket && key.length > 0 && !SUBRESOURCES.some((name) => query.has(name));
    if (context.method !== 'PUT' || context.get('if-none-match') !== '*' || !onObject) return next();
    const name = key.map(decodeURIComponent).join('/');
    const id = `${bucket}/${name}`;
    const previous = turns.get(id) ?? Promise.resolve();
    const turn = previous.then(async () => {
      if (!(await internals.store.existsObject(bucket, name))) return next();
      context.status = 412;
      context.type = 'application/xml';
      context.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
        '<Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';
    });
    const settled = turn.catch(() => undefined);
    turns.set(id, settled);
    void settled.then(() => {
      if (turns.get(id) === settled) turns.delete(id);
    });
    return turn;
  };
  // Just before the router, which is the last middleware: after s3rver's logging and XML encoding.
  internals.middleware.splice(internals.middleware.length - 1, 0, conditionalPut);
}
