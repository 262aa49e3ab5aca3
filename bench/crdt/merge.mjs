// The Yjs and Automerge baselines of bench_crdt: the same operations as Tutelle's workload
// (bench/crdt_workload.hpp describes the text file), written by the same replicas in the same
// rounds, then merged into a fresh document, timed.
//
//   node --expose-gc merge.mjs generate yjs|automerge WORKLOAD UPDATES
//       replays the workload: one document per replica, one transaction (Yjs) or change
//       (Automerge) per Tutelle changeset, every replica syncing with every other at the end
//       of each round; writes the setup and every update or change to UPDATES.
//   node --expose-gc merge.mjs merge yjs|automerge UPDATES RECORDS
//       in a fresh process, applies the setup and then every update or change to one fresh
//       document, timing the updates alone, and measures the memory the document holds.
//
// Each prints one line of JSON. The modelling is each library's best: a record is a map in its
// scope's map, created once by a setup document (not counted as operations); a single-valued
// field is a key holding a plain value (Automerge: an ImmutableString, a last-writer-wins
// register like Tutelle's field, not a collaborative text); a set element is a key
// "field\x1felement" holding true, removed by deleting it.
import {readFileSync, writeFileSync} from 'node:fs';

const kSeparator = '\x1f';

// The installed version of a package, read from its package.json (not every package exports it).
function version(name) {
  const file = new URL(`node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(file, 'utf8')).version;
}

function parseWorkload(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const records = [];
  const rounds = [];
  let changeset = null;
  for (const line of lines) {
    if (line === '' || line.startsWith('records ')) continue;
    const kind = line[0];
    if (kind === 'R') {
      const [, id, scope] = line.split(' ');
      records.push({id, scope});
    } else if (kind === 'C') {
      const [, round, replica, scope] = line.split(' ');
      while (rounds.length <= Number(round)) rounds.push([]);
      changeset = {replica: Number(replica), scope, ops: []};
      rounds[Number(round)].push(changeset);
    } else if (kind === 's' || kind === 'a' || kind === 'r') {
      const first = line.indexOf(' ', 2);
      const second = line.indexOf(' ', first + 1);
      changeset.ops.push([kind, Number(line.slice(2, first)), line.slice(first + 1, second),
                          line.slice(second + 1)]);
    }
  }
  const replicas = 1 + Math.max(...rounds.flat().map((c) => c.replica));
  const operations = rounds.flat().reduce((n, c) => n + c.ops.length, 0);
  return {records, rounds, replicas, operations};
}

function scopesOf(records) {
  return [...new Set(records.map((r) => r.scope))];
}

// UPDATES: a count, then each blob as a 4-byte length and its bytes; blob 0 is the setup.
function writeBlobs(path, blobs) {
  const total = blobs.reduce((n, b) => n + 4 + b.length, 4);
  const out = Buffer.alloc(total);
  let at = out.writeUInt32LE(blobs.length, 0);
  for (const blob of blobs) {
    at = out.writeUInt32LE(blob.length, at);
    out.set(blob, at);
    at += blob.length;
  }
  writeFileSync(path, out);
}

function readBlobs(path) {
  const bytes = readFileSync(path);
  const blobs = [];
  let at = 4;
  for (let i = bytes.readUInt32LE(0); i > 0; --i) {
    const length = bytes.readUInt32LE(at);
    blobs.push(new Uint8Array(bytes.buffer, bytes.byteOffset + at + 4, length));
    at += 4 + length;
  }
  return blobs;
}

async function generateYjs(workload) {
  const Y = await import('yjs');
  const setup = new Y.Doc();
  setup.clientID = 1000000;
  setup.transact(() => {
    const root = setup.getMap('scopes');
    const maps = new Map();
    for (const scope of scopesOf(workload.records)) {
      maps.set(scope, new Y.Map());
      root.set(scope, maps.get(scope));
    }
    for (const record of workload.records) maps.get(record.scope).set(record.id, new Y.Map());
  });
  const setupUpdate = Y.encodeStateAsUpdate(setup);
  const docs = [];
  const maps = [];
  for (let p = 0; p < workload.replicas; ++p) {
    const doc = new Y.Doc();
    doc.clientID = p + 1;
    Y.applyUpdate(doc, setupUpdate);
    const root = doc.getMap('scopes');
    docs.push(doc);
    maps.push(workload.records.map((r) => root.get(r.scope).get(r.id)));
  }
  const updates = [];
  for (const round of workload.rounds) {
    const written = [];
    for (const changeset of round) {
      const doc = docs[changeset.replica];
      const records = maps[changeset.replica];
      const keep = (update) => written.push([changeset.replica, update]);
      doc.on('update', keep);
      doc.transact(() => {
        for (const [kind, record, field, value] of changeset.ops) {
          const map = records[record];
          if (kind === 's') map.set(field, value);
          else if (kind === 'a') map.set(field + kSeparator + value, true);
          else map.delete(field + kSeparator + value);
        }
      });
      doc.off('update', keep);
    }
    for (let p = 0; p < docs.length; ++p) {
      for (const [from, update] of written) {
        if (from !== p) Y.applyUpdate(docs[p], update);
      }
    }
    for (const [, update] of written) updates.push(update);
  }
  return [setupUpdate, ...updates];
}

async function generateAutomerge(workload) {
  const A = await import('@automerge/automerge');
  const actor = (n) => n.toString(16).padStart(32, '0');
  const setup = A.change(A.init({actor: actor(1000000)}), (doc) => {
    for (const scope of scopesOf(workload.records)) doc[scope] = {};
    for (const record of workload.records) doc[record.scope][record.id] = {};
  });
  const setupBytes = A.save(setup);
  let docs = [];
  for (let p = 0; p < workload.replicas; ++p) {
    docs.push(A.load(setupBytes, {actor: actor(p + 1)}));
  }
  const changes = [];
  for (const round of workload.rounds) {
    const written = [];
    for (const changeset of round) {
      const p = changeset.replica;
      docs[p] = A.change(docs[p], (doc) => {
        for (const [kind, record, field, value] of changeset.ops) {
          const {id, scope} = workload.records[record];
          const map = doc[scope][id];
          if (kind === 's') map[field] = new A.ImmutableString(value);
          else if (kind === 'a') map[field + kSeparator + value] = true;
          else delete map[field + kSeparator + value];
        }
      });
      written.push([p, A.getLastLocalChange(docs[p])]);
    }
    docs = docs.map((doc, p) => {
      const others = written.filter(([from]) => from !== p).map(([, change]) => change);
      return A.applyChanges(doc, others)[0];
    });
    for (const [, change] of written) changes.push(change);
  }
  return [setupBytes, ...changes];
}

function heldMemory() {
  global.gc();
  const usage = process.memoryUsage();
  return {heap: usage.heapUsed + usage.external, rss: usage.rss};
}

async function mergeYjs(blobs) {
  const Y = await import('yjs');
  const before = heldMemory();
  const doc = new Y.Doc();
  Y.applyUpdate(doc, blobs[0]);
  const start = performance.now();
  for (let i = 1; i < blobs.length; ++i) Y.applyUpdate(doc, blobs[i]);
  const seconds = (performance.now() - start) / 1000;
  const after = heldMemory();
  const documentBytes = Y.encodeStateAsUpdate(doc).length;
  return {seconds, before, after, documentBytes, keep: doc};
}

async function mergeAutomerge(blobs) {
  const A = await import('@automerge/automerge');
  const before = heldMemory();
  const base = A.load(blobs[0]);
  const start = performance.now();
  const [doc] = A.applyChanges(base, blobs.slice(1));
  const seconds = (performance.now() - start) / 1000;
  const after = heldMemory();
  const documentBytes = A.save(doc).length;
  return {seconds, before, after, documentBytes, keep: doc};
}

const kPackages = {yjs: 'yjs', automerge: '@automerge/automerge'};

async function main(argv) {
  const [mode, library] = argv;
  if (!kPackages[library] || (mode !== 'generate' && mode !== 'merge') || argv.length !== 4) {
    throw new Error('usage: merge.mjs generate LIB WORKLOAD UPDATES | merge LIB UPDATES RECORDS');
  }
  if (mode === 'generate') {
    const workload = parseWorkload(argv[2]);
    const start = performance.now();
    const generate = library === 'yjs' ? generateYjs : generateAutomerge;
    const blobs = await generate(workload);
    const seconds = (performance.now() - start) / 1000;
    writeBlobs(argv[3], blobs);
    const bytes = blobs.slice(1).reduce((n, b) => n + b.length, 0);
    return {library, version: version(kPackages[library]), operations: workload.operations,
            updates: blobs.length - 1, update_bytes: bytes, generate_seconds: seconds};
  }
  const blobs = readBlobs(argv[2]);
  const merged = library === 'yjs' ? await mergeYjs(blobs) : await mergeAutomerge(blobs);
  return {library, version: version(kPackages[library]), updates: blobs.length - 1,
          merge_seconds: merged.seconds, document_bytes: merged.documentBytes,
          memory_bytes: merged.after.heap - merged.before.heap,
          rss_growth_bytes: merged.after.rss - merged.before.rss, records: Number(argv[3])};
}

main(process.argv.slice(2)).then(
    (result) => console.log(JSON.stringify(result)),
    (error) => {
      console.error(error.stack || String(error));
      process.exit(1);
    });
