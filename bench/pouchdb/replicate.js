// The PouchDB baseline of bench_replication: N project-like documents created in database A
// (not timed), then PouchDB.replicate(A, B) between two LevelDB databases (PouchDB's default
// adapter in Node), timed. Prints one line of JSON.
//
//   node bench/pouchdb/replicate.js [--docs N] [--dir DIR]
//
// Without --dir the databases live in a fresh directory under the system's temporary directory,
// removed at the end; with it they are left there.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const PouchDB = require('pouchdb');

const kChunk = 1000;  // documents per bulkDocs call while filling A
const kStatuses = ['draft', 'submitted', 'accepted', 'running', 'finished', 'rejected'];

function parseArgs(argv) {
  const options = {docs: 100000, dir: null};
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (argv[i] === '--docs' && /^[1-9][0-9]*$/.test(value || '')) {
      options.docs = Number(value);
    } else if (argv[i] === '--dir' && value) {
      options.dir = value;
    } else {
      throw new Error('usage: replicate.js [--docs N] [--dir DIR]; bad word ' + argv[i]);
    }
  }
  return options;
}

// The same shape as Tutelle's random record ids: 6 bytes of milliseconds, 6 random bytes.
function projectId(millis) {
  const time = millis.toString(16).padStart(12, '0');
  return 'project:' + time + crypto.randomBytes(6).toString('hex');
}

// The five fields bench_replication gives each Tutelle project.
function projectDoc(i) {
  return {
    _id: projectId(Date.now()),
    lead_structure: 'rnsr:202199101G',
    title: 'Projet de recherche partagé numéro ' + i,
    acronym: 'PRJ' + i,
    budget: String(10000 + (i * 7919) % 990000) + '.50',
    status: kStatuses[i % kStatuses.length],
  };
}

async function fill(db, count) {
  for (let begin = 0; begin < count; begin += kChunk) {
    const docs = [];
    for (let i = begin; i < Math.min(count, begin + kChunk); ++i) docs.push(projectDoc(i));
    const results = await db.bulkDocs(docs);
    const failed = results.find((r) => r.error);
    if (failed) throw new Error('bulkDocs: ' + JSON.stringify(failed));
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const dir = options.dir || fs.mkdtempSync(path.join(os.tmpdir(), 'tutelle-pouchdb-'));
  fs.mkdirSync(dir, {recursive: true});
  const a = new PouchDB(path.join(dir, 'a'));
  const b = new PouchDB(path.join(dir, 'b'));

  const filling = process.hrtime.bigint();
  await fill(a, options.docs);
  const filled = process.hrtime.bigint();
  const result = await PouchDB.replicate(a, b);
  const replicated = process.hrtime.bigint();

  const info = await b.info();
  const seconds = Number(replicated - filled) / 1e9;
  console.log(JSON.stringify({
    docs: options.docs,
    docs_written: result.docs_written,
    docs_in_b: info.doc_count,
    fill_seconds: Number(filled - filling) / 1e9,
    replicate_seconds: seconds,
    docs_per_second: options.docs / seconds,
    adapter: a.adapter,
    pouchdb: PouchDB.version,
    node: process.version,
  }));
  await a.close();
  await b.close();
  if (!options.dir) fs.rmSync(dir, {recursive: true, force: true});
}

main().catch((error) => {
  console.error('replicate.js: ' + (error && error.stack ? error.stack : error));
  process.exit(1);
});
