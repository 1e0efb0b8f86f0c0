import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SandboxCall, SandboxMessage, SandboxNumber, SandboxRecording, SandboxState, UsageEntry } from './sandbox-state';

const FORMAT = 1;
const DATE_FIELDS = new Set(['dateCreated', 'dateUpdated', 'startTime', 'endTime', 'dateSent', 'at']);

interface Snapshot {
  format: number;
  balance: number;
  calls: SandboxCall[];
  messages: SandboxMessage[];
  numbers: SandboxNumber[];
  recordings: SandboxRecording[];
  usage: UsageEntry[];
}

/**
 * The account's resources in a JSON file, so a restarted sandbox still owns the numbers it sold
 * and still knows the calls and messages it carried, as Twilio would. Callback deliveries (an
 * inspection log) are not kept. Writes go to a temporary file renamed over the old one, so a crash
 * mid-write leaves the previous state.
 */
export class StateFile {
  private written = '';

  constructor(private readonly path: string) {}

  /** Loads the file into `state`; false when there is no file yet. */
  load(state: SandboxState): boolean {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    const snapshot = JSON.parse(text, (key, value: unknown) =>
      DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value,
    ) as Snapshot;
    if (snapshot.format !== FORMAT) throw new Error(`${this.path}: unknown sandbox state format ${String(snapshot.format)}`);
    state.balance = snapshot.balance;
    for (const call of snapshot.calls) state.calls.set(call.sid, call);
    for (const message of snapshot.messages) state.messages.set(message.sid, message);
    for (const number of snapshot.numbers) state.numbers.set(number.sid, number);
    for (const recording of snapshot.recordings) state.recordings.set(recording.sid, recording);
    state.usage.push(...snapshot.usage);
    this.written = text;
    return true;
  }

  /** Writes `state` when it changed since the last write. */
  save(state: SandboxState): void {
    const snapshot: Snapshot = {
      format: FORMAT,
      balance: state.balance,
      calls: [...state.calls.values()],
      messages: [...state.messages.values()],
      numbers: [...state.numbers.values()],
      recordings: [...state.recordings.values()],
      usage: state.usage,
    };
    const text = JSON.stringify(snapshot);
    if (text === this.written) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, this.path);
    this.written = text;
  }
}
