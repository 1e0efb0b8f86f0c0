import { Injectable } from '@nestjs/common';
import { OptOutRepository } from './opt-out.repository';

/** Who replied STOP: checked before any call or text, changed by inbound STOP/START messages. */
@Injectable()
export class OptOutsService {
  constructor(private readonly optOuts: OptOutRepository) {}

  isOptedOut(phoneNumber: string): Promise<boolean> {
    return this.optOuts.isOptedOut(phoneNumber);
  }

  /** Those of `phoneNumbers` that opted out (a campaign's import checks all its recipients at once). */
  optedOutAmong(phoneNumbers: string[]): Promise<string[]> {
    return this.optOuts.optedOutAmong(phoneNumbers);
  }

  /** Records that `phoneNumber` sent a STOP (optedOut) or START keyword at `at`. */
  setOptOut(phoneNumber: string, optedOut: boolean, keyword: string, at: Date): Promise<void> {
    return this.optOuts.set(phoneNumber, optedOut, keyword, at);
  }
}
