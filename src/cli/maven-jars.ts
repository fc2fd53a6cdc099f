// Jars of a Java server resolved once from Maven Central by a pom in infra/, into a cache outside the repository
// (the Kafka broker: infra/kafka/pom.xml; ZooKeeper: infra/zookeeper/pom.xml).
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { aptInstall, hasCommand, InstallError } from './install.ts';

export interface MavenJars {
  /** What they are, for the progress line and errors: "ZooKeeper 3.9.5". */
  label: string;
  pom: string;
  /** -D properties for the pom (the version). */
  properties: Record<string, string>;
  /** The directory the jars go to. */
  libs: string;
  /** A jar whose presence says the directory is complete. */
  marker: string;
}

/** The directory holding the jars; resolved with mvn on first use, then reused. */
export function ensureMavenJars({ label, pom, properties, libs, marker }: MavenJars): string {
  if (existsSync(`${libs}/${marker}`)) return libs;
  if (!hasCommand('mvn')) aptInstall(['maven'], `Maven (to fetch the ${label} jars)`);
  console.log(`fink: resolving ${label} jars from Maven Central into ${libs} (first run only)...`);
  // Copy into a private directory and rename, so a concurrent start never sees half a set of jars.
  const partial = `${libs}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pom,
      ...Object.entries(properties).map(([key, value]) => `-D${key}=${value}`),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${partial}`,
    ],
    { encoding: 'utf8' },
  );
  if (mvn.status !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new InstallError(
      `mvn could not resolve the ${label} jars (exit ${mvn.status}):\n${mvn.stdout}${mvn.stderr}`,
    );
  }
  if (existsSync(libs)) rmSync(partial, { recursive: true, force: true });
  else renameSync(partial, libs);
  return libs;
}
