// A real batch engine: a one-node Slurm cluster (Debian's slurmctld, slurmd and munge) that
// this test starts in a temporary directory and stops again, runs `pfnmap sweep --shard
// auto` as a job array, and the merged shards must equal the single-process sweep.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { packageRoot } from '../src/cli/paths.js';

const DAEMONS = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd'];
const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const missing = DAEMONS.filter((d) => !fs.existsSync(d));
const needRoot = process.getuid?.() !== 0;

/** Start munged, slurmctld and slurmd under dir; returns the config path and a stop(). */
function startCluster(dir: string): { conf: string; stop: () => void } {
  const host = os.hostname().split('.')[0];
  const m = path.join(dir, 'munge');
  for (const d of ['munge', 'state', 'spool', 'log']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(m, 'key'), randomBytes(1024), { mode: 0o600 });
  const sock = path.join(m, 'sock');
  const mu = spawnSync(DAEMONS[0], ['--force', `--socket=${sock}`, `--key-file=${m}/key`, `--pid-file=${m}/pid`, `--log-file=${m}/log`, `--seed-file=${m}/seed`], { encoding: 'utf8' });
  assert.equal(mu.status, 0, `munged: ${mu.stderr}`);
  // ports of our own, so that a Slurm already on the machine is left alone
  const port = 20000 + Math.floor(Math.random() * 20000);
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(conf, [
    'ClusterName=pfnmap', `SlurmctldHost=${host}`, 'AuthType=auth/munge', `AuthInfo=socket=${sock}`, 'CredType=cred/munge',
    'SlurmUser=root', `SlurmctldPort=${port}`, `SlurmdPort=${port + 1}`,
    `StateSaveLocation=${dir}/state`, `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`, `SlurmdPidFile=${dir}/slurmd.pid`,
    `SlurmctldLogFile=${dir}/log/slurmctld.log`, `SlurmdLogFile=${dir}/log/slurmd.log`,
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core',
    'ReturnToService=2', 'MpiDefault=none', 'JobAcctGatherType=jobacct_gather/none',
    `NodeName=${host} CPUs=${os.availableParallelism()} State=UNKNOWN`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`, '',
  ].join('\n'));
  const env = { ...process.env, SLURM_CONF: conf };
  for (const d of DAEMONS.slice(1)) {
    const r = spawnSync(d, ['-f', conf], { encoding: 'utf8', env });
    assert.equal(r.status, 0, `${d}: ${r.stderr}`);
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stop = () => {
    const pids = ['slurmd.pid', 'slurmctld.pid', 'munge/pid'].map((p) => {
      try {
        return Number(fs.readFileSync(path.join(dir, p), 'utf8'));
      } catch {
        return 0; // never started
      }
    }).filter((pid) => pid > 0);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
    // leave nothing running: wait up to 10 s for each, then SIGKILL
    for (let i = 0; i < 40 && pids.some(alive); i++) spawnSync('sleep', ['0.25']);
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  };
  return { conf, stop };
}

const skip = missing.length > 0 ? `Slurm is not installed (${missing.join(', ')}: apt-get install slurmctld slurmd slurm-client munge)` : needRoot ? 'the one-node cluster runs as root' : false;

test('Slurm job array: sweep --shard auto on 4 tasks, merged, equals the single-process sweep', { skip: process.env.CI ? false : skip, timeout: 180_000 }, (t) => {
  if (process.env.CI && skip) assert.fail(skip);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pfnmap-slurm-'));
  const cluster = startCluster(dir);
  t.after(() => {
    cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const env = { ...process.env, SLURM_CONF: cluster.conf };
  // wait until the node has registered
  let up = false;
  for (let i = 0; i < 60 && !up; i++) {
    up = /idle|mix|alloc/.test(spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', env }).stdout);
    if (!up) spawnSync('sleep', ['0.5']);
  }
  assert.ok(up, `the node did not come up: ${fs.readFileSync(path.join(dir, 'log', 'slurmd.log'), 'utf8').slice(-500)}`);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const job = path.join(dir, 'job.sh');
  // the batch script of docs/sweep.md, with a smaller count
  fs.writeFileSync(job, `#!/bin/bash\nexec "${process.execPath}" "${cli}" sweep --count 40 --seed 9 --shard auto --workers 1 --out "${out}/shard-$SLURM_ARRAY_TASK_ID.json"\n`, { mode: 0o755 });
  const sb = spawnSync('sbatch', ['--wait', '--array=1-4', '-o', `${out}/%a.log`, job], { encoding: 'utf8', env, timeout: 150_000 });
  assert.equal(sb.status, 0, `sbatch: ${sb.stderr}${sb.stdout}`);
  const shards = fs.readdirSync(out).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(shards, ['shard-1.json', 'shard-2.json', 'shard-3.json', 'shard-4.json']);
  // a 1-based array: SLURM_ARRAY_TASK_MIN makes the shard indices 0..3
  const shardOf = (f: string) => JSON.parse(fs.readFileSync(path.join(out, f), 'utf8')).shards;
  assert.deepEqual(shards.map(shardOf), [['0/4'], ['1/4'], ['2/4'], ['3/4']]);
  const merged = spawnSync(process.execPath, [cli, 'merge', ...shards.map((f) => path.join(out, f))], { encoding: 'utf8' });
  assert.equal(merged.status, 0, merged.stderr);
  const whole = spawnSync(process.execPath, [cli, 'sweep', '--count', '40', '--seed', '9'], { encoding: 'utf8' });
  assert.equal(whole.status, 0, whole.stderr);
  const m = JSON.parse(merged.stdout);
  const w = JSON.parse(whole.stdout);
  assert.deepEqual(m.variants, w.variants);
  assert.deepEqual(m.shards, ['0/4', '1/4', '2/4', '3/4']);
});
