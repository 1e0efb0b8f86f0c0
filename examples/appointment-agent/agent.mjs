// A rule-based assistant agent that books a dental appointment: no model, just keywords.
// Run: ASSISTANT_SECRET=whsec_... node examples/appointment-agent/agent.mjs   (PORT defaults to 8020)
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.ASSISTANT_SECRET ?? '');
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'];
const TIMES = { 10: '10 AM', ten: '10 AM', morning: '10 AM', 2: '2 PM', two: '2 PM', afternoon: '2 PM' };
const bookings = new Map(); // per call or SMS thread: { day, time, booked }

/** What to answer the caller's latest words, given what is known of the booking so far. */
function answer(turn, booking) {
  const heard = (turn.input.speech ?? turn.input.text ?? '').toLowerCase();
  if (turn.input.digits === '0' || /\b(human|person|someone)\b/.test(heard))
    return { say: 'Connecting you to the front desk.', transfer: true };
  if (!heard && !turn.input.digits) return { say: 'Are you still there? Which day would suit you?' };
  if (booking.booked)
    return /\b(no|nothing|that's all)\b/.test(heard) ? { say: 'See you then. Goodbye!', hangup: true } : { say: 'Anything else?' };
  booking.day = DAYS.find((day) => heard.includes(day)) ?? booking.day;
  booking.time = Object.entries(TIMES).find(([word]) => new RegExp(`\\b${word}\\b`).test(heard))?.[1] ?? booking.time;
  if (!booking.day) return { say: 'Sure. Which day would you like to come in? We are open Monday to Friday.' };
  if (!booking.time) return { say: `On ${booking.day} we have 10 AM or 2 PM. Which one?` };
  booking.booked = true;
  return { say: `You're booked for ${booking.day} at ${booking.time}. Anything else?` };
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    let turn;
    try {
      turn = webhook.verify(raw, req.headers); // throws unless signed with the assistant's secret
    } catch {
      res.writeHead(401).end();
      return;
    }
    const key = turn.call?.sid ?? `${turn.message?.from}>${turn.message?.to}`;
    if (!bookings.has(key)) bookings.set(key, {});
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(turn, bookings.get(key))));
  });
});
server.listen(Number(process.env.PORT ?? 8020), '127.0.0.1', () =>
  console.log(`appointment agent on http://127.0.0.1:${server.address().port}/agent`),
);
