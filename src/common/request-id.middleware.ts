import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export interface RequestWithId extends Request {
  id?: string;
}

/** Gives every request an id (the caller's X-Request-Id when it is sane) and echoes it back. */
export function requestIdMiddleware(req: RequestWithId, res: Response, next: NextFunction): void {
  const incoming = req.header('x-request-id');
  req.id = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', req.id);
  next();
}

export function requestIdOf(req: RequestWithId): string {
  return (req.id ??= randomUUID());
}
