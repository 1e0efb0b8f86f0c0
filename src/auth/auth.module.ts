import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { JwtStrategy } from './jwt.strategy';
import { PermissionsGuard } from './permissions.guard';
import { ThrottlingModule } from '../throttling/throttling.module';

@Module({
  imports: [ThrottlingModule, PassportModule],
  providers: [JwtStrategy, { provide: APP_GUARD, useClass: PermissionsGuard }],
})
export class AuthModule {}
