// How many build tasks and how much Node heap fit in the memory we have. Measured on upstream 6.7.1:
// the default build is OOM-killed under a 2 GiB cap; one task with a ~1.4 GB heap passes; 4 GiB passes at
// full speed (largest process ~2.6 GB RSS, xo-web's gulp).

import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'

export interface BuildResources {
  jobs: number
  heapMb: number
  /** What the choice was based on, for the log. */
  availableMb: number
}

/** Pure: jobs and heap from available memory and CPUs, unless the spec fixes them. */
export function chooseResources(
  availableMb: number,
  cpus: number,
  fixed: { jobs?: number; heapMb?: number } = {},
): BuildResources {
  // Each parallel task may need ~1.5 GB besides ~1 GB for turbo, yarn and the page cache.
  const byMemory = Math.floor((availableMb - 1024) / 1536)
  const jobs = fixed.jobs ?? Math.max(1, Math.min(cpus, byMemory))
  const heapMb = fixed.heapMb ?? Math.max(512, Math.min(4096, Math.floor((availableMb - 600) / jobs)))
  return { jobs, heapMb, availableMb }
}

/** The memory this process may use: the smaller of its cgroup limit (v2 or v1) and MemAvailable. */
export function availableMemoryMb(): number {
  const candidates = [memAvailableMb(), cgroupLimitMb()].filter((n): n is number => n !== undefined)
  return candidates.length > 0 ? Math.min(...candidates) : 2048
}

function memAvailableMb(): number | undefined {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(read('/proc/meminfo') ?? '')
  return m ? Math.floor(Number(m[1]) / 1024) : undefined
}

function cgroupLimitMb(): number | undefined {
  const lines = (read('/proc/self/cgroup') ?? '').split('\n')
  for (const line of lines) {
    const [, controllers, path] = line.split(':')
    if (path === undefined) continue
    const limit =
      controllers === ''
        ? cgroupValue(`/sys/fs/cgroup${path}/memory.max`, `/sys/fs/cgroup/unified${path}/memory.max`)
        : controllers?.split(',').includes('memory')
          ? cgroupValue(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`)
          : undefined
    if (limit !== undefined) return limit
  }
  return undefined
}

function cgroupValue(...files: string[]): number | undefined {
  for (const f of files) {
    const v = read(f)?.trim()
    if (!v || v === 'max') continue
    const bytes = Number(v)
    // v1 reports "no limit" as a huge page-aligned number.
    if (Number.isFinite(bytes) && bytes < 2 ** 60) return Math.floor(bytes / 1024 / 1024)
  }
  return undefined
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

export function cpuCount(): number {
  return availableParallelism()
}
