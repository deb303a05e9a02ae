// The declared admin's password for the health sign-in, read only: status and doctor never create one
// (that is bootstrap's job), and a file others can read is not used.
import { statePaths } from '../spec/paths.ts'
import type { Spec } from '../spec/schema.ts'
import { type HostView, pathFacts, readText } from './host.ts'

export function readAdminPassword(spec: Spec, host: HostView): string | undefined {
  const file = statePaths(spec).adminPasswordFile
  const st = pathFacts(host, file)
  if (st?.type !== 'file' || (st.mode & 0o077) !== 0) return undefined
  const password = readText(host, file)?.split('\n')[0]
  return password && password.length > 0 ? password : undefined
}
