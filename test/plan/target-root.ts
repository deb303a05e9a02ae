// A minimal target prefix for `xoa apply --root`: the account files useradd/groupadd --root need.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function makeTargetRoot(root: string): string {
  mkdirSync(join(root, 'etc'), { recursive: true })
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n')
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\n')
  writeFileSync(join(root, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 })
  writeFileSync(join(root, 'etc', 'gshadow'), 'root:*::\n', { mode: 0o640 })
  // Traversable by other accounts, so tests can act as the service account inside it.
  chmodSync(root, 0o755)
  return root
}
