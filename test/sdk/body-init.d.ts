// The type check reads the generated client from its sources (packages/sdk/src, through the
// `@samsaek/source` export condition); they name the DOM type BodyInit, the service compiles without
// the DOM lib, and Node's fetch types spell the same thing RequestInit['body'].
type BodyInit = NonNullable<RequestInit['body']>;
