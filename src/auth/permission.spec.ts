import { Permission, effectivePermissions, permissionsFromClaims } from './permission';

describe('permissions', () => {
  it('phone:admin implies the other three', () => {
    expect([...effectivePermissions(['phone:admin'])].sort()).toEqual(['phone:admin', 'phone:call', 'phone:sms', 'phone:view']);
  });

  it('keeps only known permissions and implies nothing else', () => {
    expect([...effectivePermissions(['phone:view', 'phone:root', 'admin'])]).toEqual([Permission.View]);
  });

  it('reads a permissions array claim and an OAuth scope string', () => {
    expect([...permissionsFromClaims({ permissions: ['phone:call'], scope: 'openid phone:sms' })].sort()).toEqual([
      'phone:call',
      'phone:sms',
    ]);
    expect(permissionsFromClaims({ permissions: 'phone:admin' }).size).toBe(0);
  });
});
