// PLACEHOLDER until helper "xostate-client" lands the real client (XoApi over XO's JSON-RPC, signed in over the
// pinned certificate): the integrator takes that branch's file over this one. Only the agreed signature lives here.
import type { Spec } from '../spec/schema.ts'
import { XoaError } from '../util/errors.ts'
import type { XoApi } from './api.ts'

export async function openXoApi(_spec: Spec, _admin: { email: string; password: string }): Promise<XoApi> {
  throw new XoaError('the XO API client is not implemented in this build')
}
