export enum Permission {
  View = 'phone:view',
  Call = 'phone:call',
  Sms = 'phone:sms',
  Admin = 'phone:admin',
}

export const ALL_PERMISSIONS: readonly Permission[] = [Permission.View, Permission.Call, Permission.Sms, Permission.Admin];

/** What a token may do: its permissions, with phone:admin implying the other three. */
export function effectivePermissions(granted: Iterable<string>): Set<Permission> {
  const known = new Set<Permission>();
  for (const p of granted) if ((ALL_PERMISSIONS as readonly string[]).includes(p)) known.add(p as Permission);
  if (known.has(Permission.Admin)) ALL_PERMISSIONS.forEach((p) => known.add(p));
  return known;
}

/** Permissions from a `permissions` array claim and/or an OAuth `scope` string. */
export function permissionsFromClaims(payload: { permissions?: unknown; scope?: unknown }): Set<Permission> {
  const granted: string[] = [];
  if (Array.isArray(payload.permissions)) granted.push(...payload.permissions.filter((p): p is string => typeof p === 'string'));
  if (typeof payload.scope === 'string') granted.push(...payload.scope.split(' ').filter(Boolean));
  return effectivePermissions(granted);
}
