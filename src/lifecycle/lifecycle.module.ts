import { Module } from '@nestjs/common';
import { ShutdownState } from './shutdown-state';

/** The instance's shutdown state, shared by the probes, the request gate and scheduled jobs. */
@Module({ providers: [ShutdownState], exports: [ShutdownState] })
export class LifecycleModule {}
