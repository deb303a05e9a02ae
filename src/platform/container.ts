// What the container image (Debian 12 based, `xoa up` in the foreground) needs: the same files at the same
// paths as Debian. It is its own name so a difference, once real, has one place to go.
import { DEBIAN } from './debian.ts'
import type { Platform } from './platform.ts'

export const CONTAINER: Platform = { ...DEBIAN, name: 'container' }
