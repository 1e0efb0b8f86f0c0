import { applyDecorators, Header, type Type } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';

/**
 * For a GET route whose handler returns the JSON text of `type` (a JsonText): the answer is that
 * text as it is, with the Content-Type (and so the ETag) Express gives an object it serialises, and
 * the API document shows `type` as the 200 answer. Errors still go through the exception filter.
 */
export function JsonTextResponse(type: Type<unknown>): MethodDecorator {
  return applyDecorators(Header('Content-Type', 'application/json; charset=utf-8'), ApiOkResponse({ type }));
}
