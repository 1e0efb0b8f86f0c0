import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import { currentRequestTiming } from '../common/server-timing';

/**
 * Counts every statement a request runs, and the time one is in flight, into that request's
 * Server-Timing (`db`). TypeORM tells subscribers before and after each query, failed ones
 * included; outside a request nothing is counted.
 */
@Injectable()
export class QueryTimingSubscriber implements EntitySubscriberInterface {
  constructor(@InjectDataSource() dataSource: DataSource) {
    dataSource.subscribers.push(this);
  }

  beforeQuery(): void {
    currentRequestTiming()?.begin('db');
  }

  afterQuery(): void {
    currentRequestTiming()?.end('db');
  }
}
