// The generated fetch client (test/generated/sdk) names the DOM type BodyInit; the project compiles
// without the DOM lib, and Node's fetch types spell the same thing RequestInit['body'].
type BodyInit = NonNullable<RequestInit['body']>;
