import { HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError, ErrorDetail } from './app-error';

function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Whitelisting validation whose failures name every bad field in the documented error shape. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const phoneOnly = details.length > 0 && details.every((d) => d.message.includes('E.164'));
      return new AppError(
        HttpStatus.BAD_REQUEST,
        phoneOnly ? 'invalid_phone_number' : 'validation_failed',
        details.map((d) => d.message).join('; '),
        details,
      );
    },
  });
}
