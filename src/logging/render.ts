/** An error as a log record shows it: enough to identify it, never its whole object graph. */
export interface RenderedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
}

/** What a log record keeps of an error or thrown value. */
export function renderError(
  error: unknown,
): RenderedError | string | number | boolean | null | undefined {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const shown = { name: error.name, message: error.message };
    return typeof code === 'string' || typeof code === 'number' ? { ...shown, code } : shown;
  }
  if (error === undefined || error === null) return error;
  if (typeof error === 'string' || typeof error === 'number' || typeof error === 'boolean') {
    return error;
  }
  return { name: constructorName(error), message: '' };
}

function constructorName(value: unknown): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : typeof value;
}

/** Fields that hold the caller's key: a tenant, a host, a cache key. */
const keyFields = new Set(['key']);

/**
 * An event's detail, made safe and small for a log record: errors become `{ name, message,
 * code }`, an outcome keeps whether it succeeded and its error (never its value, which may be
 * a whole response), nested objects keep their plain fields only, and the call's key is left
 * out unless `includeKeys`.
 */
export function renderDetail(detail: object, includeKeys: boolean): Record<string, unknown> {
  const rendered: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(detail)) {
    if (!includeKeys && keyFields.has(field)) continue;
    if (field === 'error') rendered.error = renderError(value);
    else if (field === 'outcome' && isOutcome(value)) {
      rendered.outcome = value.ok ? { ok: true } : { ok: false, error: renderError(value.error) };
    } else rendered[field] = renderValue(value);
  }
  return rendered;
}

function isOutcome(value: unknown): value is { ok: boolean; error?: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { ok?: unknown }).ok === 'boolean'
  );
}

function renderValue(value: unknown): unknown {
  if (value instanceof Error) return renderError(value);
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint'
      ? String(value)
      : value;
  }
  const plain: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value)) {
    if (typeof inner === 'string' || typeof inner === 'number' || typeof inner === 'boolean') {
      plain[field] = inner;
    }
  }
  return plain;
}
