// A routing target: one provider account type plus the model name that provider knows.

export interface Target {
  provider: string;
  model: string;
}

/** Canonical string form, used as a map key and inside chain ids: `provider/model`. */
export function targetKey(target: Target): string {
  return `${target.provider}/${target.model}`;
}

export function sameTarget(a: Target, b: Target): boolean {
  return a.provider === b.provider && a.model === b.model;
}

/** A plain copy, so callers never hold references into compiled config. */
export function copyTarget(target: Target): Target {
  return { provider: target.provider, model: target.model };
}
