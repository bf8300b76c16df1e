// Generates typed Envoy/xDS v3 messages into gen/ with protoc-gen-es.
//
// The .proto files come from the pinned @grpc/grpc-js-xds package. Its bundled validate.proto is
// older than the Envoy protos that use it (no `ignore_empty`), so protoc and buf reject the tree.
// Custom options (validate, udpa, xds and envoy annotations) play no part in encoding or decoding,
// so this script parses the tree with protobufjs (which keeps unknown options as opaque strings),
// builds the FileDescriptorProtos itself with every custom option dropped, and hands protoc-gen-es a
// CodeGeneratorRequest over the ordinary plugin protocol (stdin/stdout).
//
// Usage: node scripts/generate-xds.mjs [--force]

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, createFileRegistry, createRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { protoCamelCase } from '@bufbuild/protobuf/reflect';
import * as wkt from '@bufbuild/protobuf/wkt';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs');

const scriptPath = fileURLToPath(import.meta.url);
const packageDir = join(dirname(scriptPath), '..');
const genDir = join(packageDir, 'gen');
const stampPath = join(genDir, '.stamp.json');

/** Plugin options: .js + .d.ts pairs, relative imports ending in .js (Node ESM). */
const pluginParameter = 'target=js+dts,import_extension=js';

/**
 * Entry points. Everything they import (transitively, by type reference or `import public`) is
 * generated too. Globs are `*` segments only.
 */
const roots = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/cert.proto',
  'envoy/extensions/transport_sockets/tls/v3/common.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config.proto',
  'envoy/extensions/clusters/aggregate/v3/cluster.proto',
  'envoy/extensions/load_balancing_policies/*/v3/*.proto',
  'envoy/admin/v3/config_dump.proto',
  'envoy/service/status/v3/csds.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
];

// FieldDescriptorProto.Type numbers, by protobufjs scalar name.
const scalarTypes = {
  double: 1,
  float: 2,
  int64: 3,
  uint64: 4,
  int32: 5,
  fixed64: 6,
  fixed32: 7,
  bool: 8,
  string: 9,
  bytes: 12,
  uint32: 13,
  sfixed32: 15,
  sfixed64: 16,
  sint32: 17,
  sint64: 18,
};
const TYPE_MESSAGE = 11;
const TYPE_ENUM = 14;
const LABEL_OPTIONAL = 1;
const LABEL_REPEATED = 3;

// FileDescriptorProto / DescriptorProto / EnumDescriptorProto / ServiceDescriptorProto field
// numbers, used as SourceCodeInfo paths so that comments reach the generated TSDoc.
const PATH_FILE_MESSAGE = 4;
const PATH_FILE_ENUM = 5;
const PATH_FILE_SERVICE = 6;
const PATH_MESSAGE_FIELD = 2;
const PATH_MESSAGE_NESTED = 3;
const PATH_MESSAGE_ENUM = 4;
const PATH_MESSAGE_ONEOF = 8;
const PATH_ENUM_VALUE = 2;
const PATH_SERVICE_METHOD = 2;

function fail(message) {
  throw new Error(`generate-xds: ${message}`);
}

function packageVersion(name) {
  // Not every package exports its package.json, and some have no main: search node_modules upward.
  for (const base of require.resolve.paths(name) ?? []) {
    const candidate = join(base, name, 'package.json');
    if (existsSync(candidate)) {
      const json = JSON.parse(readFileSync(candidate, 'utf8'));
      return { dir: dirname(candidate), version: json.version };
    }
  }
  return fail(`cannot find package ${name}`);
}

function computeStamp() {
  const versions = {};
  for (const name of ['@grpc/grpc-js-xds', '@bufbuild/protoc-gen-es', '@bufbuild/protobuf', 'protobufjs']) {
    versions[name] = packageVersion(name).version;
  }
  const generatorHash = createHash('sha256').update(readFileSync(scriptPath)).digest('hex');
  return JSON.stringify({ versions, generatorHash }, null, 2) + '\n';
}

function isUpToDate(stamp) {
  if (!existsSync(stampPath)) return false;
  if (readFileSync(stampPath, 'utf8') !== stamp) return false;
  // Also catch a half-deleted tree: the stamp lists what was written.
  const written = JSON.parse(readFileSync(join(genDir, '.files.json'), 'utf8'));
  return written.every((file) => existsSync(join(genDir, file)));
}

/** Expands `*` path segments against the include directories. */
function expandRoots(includeDirs) {
  const out = [];
  for (const pattern of roots) {
    if (!pattern.includes('*')) {
      if (includeDirs.some((dir) => existsSync(join(dir, pattern)))) out.push(pattern);
      else console.warn(`generate-xds: root ${pattern} is not in @grpc/grpc-js-xds, skipped`);
      continue;
    }
    let partials = [''];
    for (const segment of pattern.split('/')) {
      const next = [];
      for (const partial of partials) {
        if (!segment.includes('*')) {
          next.push(partial ? `${partial}/${segment}` : segment);
          continue;
        }
        const re = new RegExp(`^${segment.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
        for (const dir of includeDirs) {
          const abs = join(dir, partial);
          if (!existsSync(abs)) continue;
          for (const entry of readdirSync(abs).sort()) {
            if (re.test(entry)) next.push(partial ? `${partial}/${entry}` : entry);
          }
        }
      }
      partials = next;
    }
    const found = partials.filter((p) => includeDirs.some((dir) => existsSync(join(dir, p))));
    if (found.length === 0) console.warn(`generate-xds: root ${pattern} matched nothing, skipped`);
    out.push(...found);
  }
  return [...new Set(out)];
}

/**
 * Parses every file reachable by `import` from the roots into one protobufjs Root. Well-known types
 * come from protobufjs' bundled copies (for name resolution only); their descriptors are taken from
 * @bufbuild/protobuf/wkt later, so the generated code imports them from there.
 */
function parseTree(includeDirs, rootFiles) {
  const root = new protobuf.Root();
  /** @type {Map<string, {name: string, package: string, syntax: string, imports: string[], publicImports: Set<string>, objects: any[]}>} */
  const files = new Map();
  const queue = [...rootFiles];
  const wktNames = new Set();
  while (queue.length > 0) {
    const name = queue.shift();
    if (files.has(name) || wktNames.has(name)) continue;
    if (name.startsWith('google/protobuf/')) {
      wktNames.add(name);
      const json = protobuf.common.get(name);
      // descriptor.proto is only imported by annotation files, whose options are dropped.
      if (json) root.addJSON(json.nested);
      continue;
    }
    const dir = includeDirs.find((d) => existsSync(join(d, name)));
    if (!dir) fail(`cannot find ${name} in @grpc/grpc-js-xds/deps`);
    const source = readFileSync(join(dir, name), 'utf8');
    protobuf.parse.filename = name;
    const parsed = protobuf.parse(source, root, { keepCase: true, alternateCommentMode: true });
    const publicImports = new Set([...source.matchAll(/^\s*import\s+public\s+"([^"]+)"/gm)].map((m) => m[1]));
    const syntax = /^\s*syntax\s*=\s*"([^"]+)"/m.exec(source)?.[1] ?? 'proto2';
    if (/^\s*edition\s*=/m.test(source)) fail(`${name}: editions are not supported by this generator`);
    const imports = [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])];
    files.set(name, { name, package: parsed.package ?? '', syntax, imports, publicImports, objects: [] });
    queue.push(...imports);
  }
  // Attach every top-level declaration to its file (protobufjs merges packages across files).
  const visit = (ns) => {
    for (const obj of ns.nestedArray) {
      if (obj instanceof protobuf.Type || obj instanceof protobuf.Enum || obj instanceof protobuf.Service) {
        if (obj.filename && files.has(obj.filename)) files.get(obj.filename).objects.push(obj);
      } else if (obj instanceof protobuf.Namespace) {
        visit(obj);
      }
    }
  };
  visit(root);
  return { root, files };
}

function wktIndex() {
  const descFiles = Object.values(wkt).filter((v) => v && typeof v === 'object' && v.kind === 'file');
  const registry = createRegistry(...descFiles);
  const byName = new Map(descFiles.map((f) => [f.name + '.proto', f]));
  return { registry, byName };
}

/** Resolves a type reference to its fully-qualified name (no leading dot) and its file. */
function resolveRef(scope, typeName, wkts, where) {
  const found = scope.lookupTypeOrEnum(typeName);
  if (!found) fail(`${where}: cannot resolve type ${typeName}`);
  const fullName = found.fullName.replace(/^\./, '');
  let file = found.filename;
  if (!file) {
    const desc = wkts.registry.getMessage(fullName) ?? wkts.registry.getEnum(fullName);
    if (!desc) fail(`${where}: ${fullName} has no file`);
    file = desc.file.name + '.proto';
  }
  return { fullName, file, isEnum: found instanceof protobuf.Enum };
}

/** Same as protoc's MapEntryName(): foo_bar -> FooBarEntry. */
function mapEntryName(fieldName) {
  let out = '';
  let upper = true;
  for (const ch of fieldName) {
    if (ch === '_') {
      upper = true;
    } else if (upper) {
      out += ch.toUpperCase();
      upper = false;
    } else {
      out += ch;
    }
  }
  return out + 'Entry';
}

function cleanComment(text) {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  return ` ${text.replace(/\n/g, '\n ')}\n`;
}

/** Builds FileDescriptorProtos for one parsed file; returns the proto and the files it references. */
function buildFile(info, wkts) {
  const refs = new Set();
  const locations = [];
  const comment = (path, text) => {
    const leadingComments = cleanComment(text);
    if (leadingComments) locations.push({ path, span: [0, 0, 0], leadingComments });
  };
  const ref = (scope, typeName, where) => {
    const r = resolveRef(scope, typeName, wkts, where);
    if (r.file !== info.name) refs.add(r.file);
    return r;
  };

  const buildEnum = (enm, path) => {
    comment(path, enm.comment);
    const options = {};
    if (enm.options?.allow_alias) options.allowAlias = true;
    if (enm.options?.deprecated) options.deprecated = true;
    const value = Object.entries(enm.values).map(([name, number], i) => {
      comment([...path, PATH_ENUM_VALUE, i], enm.comments?.[name]);
      const v = { name, number };
      if (enm.valuesOptions?.[name]?.deprecated) v.options = { deprecated: true };
      return v;
    });
    const out = { name: enm.name, value };
    if (Object.keys(options).length > 0) out.options = options;
    return out;
  };

  const buildMessage = (type, path) => {
    comment(path, type.comment);
    const where = type.fullName.slice(1);
    const msg = { name: type.name, field: [], nestedType: [], enumType: [], oneofDecl: [] };
    if (type.options?.deprecated) msg.options = { deprecated: true };

    // protoc orders real oneofs first, then the synthetic ones of proto3 `optional` fields.
    const oneofs = [...type.oneofsArray.filter((o) => !o.isProto3Optional && !isSynthetic(o))];
    oneofs.push(...type.oneofsArray.filter((o) => o.isProto3Optional || isSynthetic(o)));
    oneofs.forEach((o, i) => {
      comment([...path, PATH_MESSAGE_ONEOF, i], o.comment);
      msg.oneofDecl.push({ name: o.name });
    });

    for (const nested of type.nestedArray) {
      if (nested instanceof protobuf.Type) {
        msg.nestedType.push(buildMessage(nested, [...path, PATH_MESSAGE_NESTED, msg.nestedType.length]));
      } else if (nested instanceof protobuf.Enum) {
        msg.enumType.push(buildEnum(nested, [...path, PATH_MESSAGE_ENUM, msg.enumType.length]));
      } else if (!(nested instanceof protobuf.Field)) {
        fail(`${where}: unsupported nested declaration ${nested}`);
      }
      // Nested `extend` blocks only declare custom options, which are dropped.
    }

    type.fieldsArray.forEach((field, i) => {
      comment([...path, PATH_MESSAGE_FIELD, i], field.comment);
      const f = { name: field.name, number: field.id, label: LABEL_OPTIONAL };
      f.jsonName = field.options?.json_name ?? protoCamelCase(field.name);
      if (field.map) {
        const entryName = mapEntryName(field.name);
        const entry = {
          name: entryName,
          field: [
            {
              name: 'key',
              number: 1,
              label: LABEL_OPTIONAL,
              type: scalarTypes[field.keyType],
              jsonName: 'key',
            },
            { name: 'value', number: 2, label: LABEL_OPTIONAL, jsonName: 'value' },
          ],
          options: { mapEntry: true },
        };
        if (scalarTypes[field.keyType] === undefined) fail(`${where}.${field.name}: bad map key`);
        setFieldType(entry.field[1], type, field.type, `${where}.${field.name}`, ref);
        msg.nestedType.push(entry);
        f.label = LABEL_REPEATED;
        f.type = TYPE_MESSAGE;
        f.typeName = `.${where}.${entryName}`;
      } else {
        if (field.repeated) f.label = LABEL_REPEATED;
        else if (field.required) fail(`${where}.${field.name}: required fields are not supported`);
        setFieldType(f, type, field.type, `${where}.${field.name}`, ref);
      }
      if (field.partOf) {
        const index = oneofs.indexOf(field.partOf);
        if (index < 0) fail(`${where}.${field.name}: oneof not found`);
        f.oneofIndex = index;
        if (field.options?.proto3_optional) f.proto3Optional = true;
      }
      const options = {};
      if (field.options?.deprecated) options.deprecated = true;
      if (field.options?.packed !== undefined) options.packed = Boolean(field.options.packed);
      if (Object.keys(options).length > 0) f.options = options;
      msg.field.push(f);
    });
    return msg;
  };

  const file = {
    name: info.name,
    package: info.package,
    syntax: info.syntax,
    messageType: [],
    enumType: [],
    service: [],
  };
  for (const obj of info.objects) {
    if (obj instanceof protobuf.Type) {
      file.messageType.push(buildMessage(obj, [PATH_FILE_MESSAGE, file.messageType.length]));
    } else if (obj instanceof protobuf.Enum) {
      file.enumType.push(buildEnum(obj, [PATH_FILE_ENUM, file.enumType.length]));
    } else if (obj instanceof protobuf.Service) {
      const path = [PATH_FILE_SERVICE, file.service.length];
      comment(path, obj.comment);
      const method = obj.methodsArray.map((m, i) => {
        comment([...path, PATH_SERVICE_METHOD, i], m.comment);
        const where = `${obj.fullName.slice(1)}.${m.name}`;
        return {
          name: m.name,
          inputType: `.${ref(obj, m.requestType, where).fullName}`,
          outputType: `.${ref(obj, m.responseType, where).fullName}`,
          clientStreaming: Boolean(m.requestStream),
          serverStreaming: Boolean(m.responseStream),
          ...(m.options?.deprecated ? { options: { deprecated: true } } : {}),
        };
      });
      file.service.push({ name: obj.name, method });
    }
  }
  if (locations.length > 0) file.sourceCodeInfo = { location: locations };
  return { file, refs };
}

function isSynthetic(oneof) {
  return oneof.fieldsArray.length === 1 && oneof.fieldsArray[0].options?.proto3_optional === true;
}

function setFieldType(f, scope, typeName, where, ref) {
  if (scalarTypes[typeName] !== undefined) {
    f.type = scalarTypes[typeName];
    return;
  }
  const r = ref(scope, typeName, where);
  f.type = r.isEnum ? TYPE_ENUM : TYPE_MESSAGE;
  f.typeName = `.${r.fullName}`;
}

function main() {
  const force = process.argv.includes('--force');
  const started = performance.now();
  const stamp = computeStamp();
  if (!force && isUpToDateSafe(stamp)) {
    console.log('generate-xds: gen/ is up to date');
    return;
  }

  const xds = packageVersion('@grpc/grpc-js-xds');
  const includeDirs = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) =>
    join(xds.dir, 'deps', d),
  );
  const rootFiles = expandRoots(includeDirs);
  const { files } = parseTree(includeDirs, rootFiles);
  const wkts = wktIndex();

  // File-level closure from the roots: a file is generated when a root needs it, through a type
  // reference or an `import public`. Imports that only bring custom options are dropped.
  const built = new Map();
  const pending = [...rootFiles];
  while (pending.length > 0) {
    const name = pending.shift();
    if (built.has(name) || name.startsWith('google/protobuf/')) continue;
    const info = files.get(name);
    if (!info) fail(`${name} was not parsed`);
    const { file, refs } = buildFile(info, wkts);
    const deps = info.imports.filter((i) => refs.has(i) || info.publicImports.has(i));
    // A type may be visible through another file's `import public`; depend on its file directly.
    for (const r of refs) if (!deps.includes(r)) deps.push(r);
    file.dependency = deps;
    file.publicDependency = deps.flatMap((d, i) => (info.publicImports.has(d) ? [i] : []));
    built.set(name, file);
    pending.push(...deps);
  }

  // Well-known types keep their real names and descriptors so that protoc-gen-es imports them
  // from @bufbuild/protobuf/wkt instead of generating them.
  const wktProtos = new Map();
  const addWkt = (name) => {
    if (wktProtos.has(name)) return;
    const desc = wkts.byName.get(name);
    if (!desc) fail(`unknown well-known file ${name}`);
    for (const dep of desc.dependencies) addWkt(dep.name + '.proto');
    wktProtos.set(name, desc.proto);
  };
  for (const file of built.values()) {
    for (const dep of file.dependency) if (dep.startsWith('google/protobuf/')) addWkt(dep);
  }

  // proto_file must list dependencies before dependents.
  const ordered = [...wktProtos.values()];
  const visited = new Set();
  const visitFile = (name, stack) => {
    if (visited.has(name) || name.startsWith('google/protobuf/')) return;
    if (stack.includes(name)) fail(`import cycle: ${[...stack, name].join(' -> ')}`);
    const file = built.get(name);
    for (const dep of file.dependency) visitFile(dep, [...stack, name]);
    visited.add(name);
    ordered.push(create(wkt.FileDescriptorProtoSchema, file));
  };
  for (const name of [...built.keys()].sort()) visitFile(name, []);

  const fileToGenerate = [...built.keys()].sort();
  // Building a registry from the request checks that every reference resolves, before codegen.
  createFileRegistry(create(wkt.FileDescriptorSetSchema, { file: ordered }));

  const request = create(wkt.CodeGeneratorRequestSchema, {
    fileToGenerate,
    parameter: pluginParameter,
    protoFile: ordered,
  });
  const pluginBin = join(packageVersion('@bufbuild/protoc-gen-es').dir, 'bin', 'protoc-gen-es');
  const result = spawnSync(process.execPath, [pluginBin], {
    input: toBinary(wkt.CodeGeneratorRequestSchema, request),
    maxBuffer: 1024 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    fail(`protoc-gen-es exited with ${result.status}: ${result.stderr.toString()}`);
  }
  const response = fromBinary(wkt.CodeGeneratorResponseSchema, result.stdout);
  if (response.error) fail(`protoc-gen-es: ${response.error}`);
  if (response.file.length === 0) fail('protoc-gen-es produced no files');

  // Write to a sibling directory and swap it in, so a failed run never leaves a half-written gen/.
  const tmpDir = `${genDir}.tmp-${process.pid}`;
  rmSync(tmpDir, { recursive: true, force: true });
  const written = [];
  for (const out of response.file) {
    if (out.insertionPoint) fail(`unexpected insertion point in ${out.name}`);
    if (out.name.includes('..')) fail(`refusing to write ${out.name}`);
    const target = join(tmpDir, out.name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.content);
    written.push(out.name);
  }
  writeFileSync(join(tmpDir, '.files.json'), JSON.stringify(written.sort(), null, 2) + '\n');
  writeFileSync(join(tmpDir, '.stamp.json'), stamp);
  rmSync(genDir, { recursive: true, force: true });
  renameSync(tmpDir, genDir);

  const ms = Math.round(performance.now() - started);
  console.log(
    `generate-xds: ${fileToGenerate.length} .proto files -> ${written.length} files in gen/ (${ms} ms)`,
  );
}

function isUpToDateSafe(stamp) {
  try {
    return isUpToDate(stamp);
  } catch {
    return false;
  }
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
}
