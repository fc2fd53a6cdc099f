// Readiness probes of the local servers: is a port taken, does a Kafka broker serve metadata.
import { createConnection } from 'node:net';
import { Kafka, logLevel, type Admin } from 'kafkajs';

export function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** An admin client for one probe: short timeouts, no retries, silent. */
function probeAdmin(brokers: string[]): Admin {
  return new Kafka({
    brokers,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
}

/** The broker accepts connections before it serves metadata; ready means it answers a metadata request. */
export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const admin = probeAdmin(brokers);
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect();
  }
}

/**
 * True when the broker at `broker` answers a request (ApiVersions, as a client's connection opens). A KRaft
 * broker serves requests only once it caught up with the metadata log and the controller unfenced it: it has
 * joined its cluster. Unlike kafkaAnswers, which asks for the metadata of every topic (kafkajs cannot ask for
 * none) and fails while any partition has no leader, as after a whole cluster stopped until its last in-sync
 * replicas are back.
 */
export async function kafkaBrokerAnswers(broker: string): Promise<boolean> {
  const admin = probeAdmin([broker]);
  try {
    await admin.connect();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect();
  }
}
