import { ResilienceError } from '../../core/errors.js';

/** The proxy has no toxic by that name (the control API answers 404). */
export class ToxicNotFoundError extends ResilienceError {
  readonly toxic: string;

  constructor(proxy: string, toxic: string) {
    super(`chaos proxy "${proxy}" has no toxic "${toxic}"`);
    this.toxic = toxic;
  }
}

/** The proxy already has a toxic by that name (the control API answers 409). */
export class ToxicExistsError extends ResilienceError {
  readonly toxic: string;

  constructor(proxy: string, toxic: string) {
    super(`chaos proxy "${proxy}" already has a toxic "${toxic}"`);
    this.toxic = toxic;
  }
}

for (const [type, code] of [
  [ToxicNotFoundError, 'TOXIC_NOT_FOUND'],
  [ToxicExistsError, 'TOXIC_EXISTS'],
] as const) {
  Object.defineProperties(type.prototype, {
    name: { value: type.name, writable: true, configurable: true },
    code: { value: code, writable: false, configurable: true },
  });
}
