import { HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from './app-error';

/** Deepest nesting of arrays and objects a JSON body may have; real requests use two or three levels. */
export const MAX_JSON_DEPTH = 32;

/** How deeply `value` nests, counted without recursion so no input can overflow the stack. */
export function nestingDepth(value: unknown, stopAbove = Infinity): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > stopAbove) return deepest;
    for (const item of Array.isArray(current) ? current : Object.values(current)) stack.push({ value: item, depth: here });
  }
  return deepest;
}

/**
 * Refuses a parsed body nested deeper than `maxDepth`, before guards, pipes or handlers walk it
 * recursively (class-transformer, JSON.stringify) and overflow the stack.
 */
export function jsonDepthLimit(maxDepth = MAX_JSON_DEPTH) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const body: unknown = req.body;
    if (body !== null && typeof body === 'object' && nestingDepth(body, maxDepth) > maxDepth) {
      next(new AppError(HttpStatus.BAD_REQUEST, 'validation_failed', `Request body is nested deeper than ${maxDepth} levels`));
      return;
    }
    next();
  };
}
