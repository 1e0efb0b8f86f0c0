import { createServer } from 'node:http';
import { Pool } from 'pg';
import twilio from 'twilio';

/**
 * The floor: the least a status callback endpoint can do on this machine. Plain node:http and pg,
 * the same X-Twilio-Signature check as the service (twilio.validateRequest over the configured
 * public URL and the form parameters) and the same monotonic status update in one statement:
 * a newer SequenceNumber is recorded, the status moves only forward in the lifecycle, and a
 * terminal status is final. Env: DATABASE_URL, PORT, TWILIO_AUTH_TOKEN, FLOOR_SIGNED_URL, FLOOR_POOL.
 */
const APPLY_SQL = `
UPDATE call_records SET
  status = CASE WHEN status NOT IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')
                 AND array_position($4::text[], $2) > array_position($4::text[], status::text)
            THEN $2 ELSE status END,
  status_sequence = $3,
  updated_at = now()
WHERE sid = $1 AND status_sequence < $3`;

/** Lifecycle rank as the service's call-status rules give it; the terminal statuses share the last rank. */
const RANK = ['queued', 'initiated', 'ringing', 'in-progress', 'completed'];
const rankOf = (status: string) => (['busy', 'no-answer', 'failed', 'canceled'].includes(status) ? 'completed' : status);

const authToken = process.env.TWILIO_AUTH_TOKEN ?? '';
const signedUrl = process.env.FLOOR_SIGNED_URL ?? '';
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.FLOOR_POOL ?? 10) });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const signature = req.headers['x-twilio-signature'];
    if (req.method !== 'POST' || typeof signature !== 'string' || !twilio.validateRequest(authToken, signature, signedUrl, params)) {
      res.writeHead(403).end();
      return;
    }
    const sequence = Number(params.SequenceNumber);
    const status = params.CallStatus;
    if (!params.CallSid || !status || !Number.isInteger(sequence)) {
      res.writeHead(400).end();
      return;
    }
    // the rank array is built so that terminal statuses compare by their shared rank
    const ranks = RANK.map((s) => (s === rankOf(status) ? status : s));
    pool.query(APPLY_SQL, [params.CallSid, status, sequence, ranks]).then(
      () => res.writeHead(204).end(),
      (error: unknown) => {
        console.error(error);
        res.writeHead(500).end();
      },
    );
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`floor listening on ${typeof address === 'object' && address ? address.port : ''}`);
});
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
