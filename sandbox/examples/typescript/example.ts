// A citizen app and an agent, on the TypeScript types generated from Signal93's OpenAPI
// document (openapi-typescript): each request and answer is checked by `tsc --strict`.
//
//   npm ci && SIGNAL93_OPENAPI=http://127.0.0.1:5000/api/v1/openapi.json npm run types && npm run check
//   npx tsc -p . && SIGNAL93_URL=http://127.0.0.1:5000 SIGNAL93_AGENT_EMAIL=… SIGNAL93_AGENT_PASSWORD=… \
//     node dist/example.js photo.jpg
//
// It lists the categories, submits a pothole with an idempotency key (sent twice: one report),
// reads it back with the reporter token, adds a photo, then an agent acknowledges it.

import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";

import type { components, paths } from "./signal93.js";

type Schemas = components["schemas"];
type Json<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { "application/json": infer T } } };
}
  ? T
  : never;

const base = process.env.SIGNAL93_URL ?? "http://127.0.0.1:5000";

/** The JSON answer, typed by the document; throws with the API's error code otherwise. */
async function call<T>(path: string, init: RequestInit, expected: number): Promise<T> {
  const response = await fetch(`${base}${path}`, init);
  const body: unknown = await response.json();
  if (response.status !== expected) {
    const error = body as Schemas["Error"];
    throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${error.code}: ${error.message}`);
  }
  return body as T;
}

async function main(photo: string): Promise<void> {
  const categories = await call<Json<"/api/v1/categories", "get", 200>>("/api/v1/categories", {}, 200);
  const pothole = categories.items.find((category: Schemas["Category"]) => category.code === "nid-de-poule");
  if (pothole === undefined) throw new Error("no pothole category");
  console.log(`categories: ${categories.items.length}, including ${pothole.name}`);

  const report: Schemas["ReportCreate"] = {
    category: pothole.code,
    location: { lat: 48.901, lon: 2.399, accuracy_m: 8 },
    attributes: { taille: "moyen" },
    description: "Trou profond devant l'arrêt de bus",
  };
  const submit: RequestInit = {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": randomUUID() },
    body: JSON.stringify(report),
  };
  type Created = Json<"/api/v1/reports", "post", 201>;
  const created = await call<Created>("/api/v1/reports", submit, 201);
  const again = await call<Created>("/api/v1/reports", submit, 201); // a retry on a bad network
  if (again.reference !== created.reference) throw new Error("a retry made a second report");
  console.log(`submitted: ${created.reference}, routed to ${created.routing.directorate.code}`);

  const asReporter = { headers: { Authorization: `Reporter ${created.reporter_token}` } };
  const read = await call<Json<"/api/v1/reports/{reference}", "get", 200>>(
    `/api/v1/reports/${created.reference}`,
    asReporter,
    200,
  );
  const status: Schemas["ReportStatus"] = read.status;
  console.log(`read back with the reporter token: ${status}, as submitted: ${read.submitted?.description}`);

  const form = new FormData();
  form.append("photos", new Blob([await readFile(photo)], { type: "image/jpeg" }), basename(photo));
  const added = await call<Json<"/api/v1/reports/{reference}/media", "post", 201>>(
    `/api/v1/reports/${created.reference}/media`,
    { method: "POST", body: form, ...asReporter },
    201,
  );
  console.log(`photos added: ${added.media.length} (${added.media[0]?.status})`);

  const credentials: Schemas["TokenRequest"] = {
    email: process.env.SIGNAL93_AGENT_EMAIL ?? "",
    password: process.env.SIGNAL93_AGENT_PASSWORD ?? "",
  };
  const token = await call<Json<"/api/v1/auth/tokens", "post", 201>>(
    "/api/v1/auth/tokens",
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(credentials) },
    201,
  );
  const asAgent = { Authorization: `Bearer ${token.token}`, "Content-Type": "application/json" };
  const seen = await call<Json<"/api/v1/triage/reports/{reference}", "get", 200>>(
    `/api/v1/triage/reports/${created.reference}`,
    { headers: asAgent },
    200,
  );
  const move: Schemas["Transition"] = { to: "acknowledged", version: seen.version };
  const moved = await call<Json<"/api/v1/triage/reports/{reference}/transitions", "post", 200>>(
    `/api/v1/triage/reports/${created.reference}/transitions`,
    { method: "POST", headers: asAgent, body: JSON.stringify(move) },
    200,
  );
  console.log(`acknowledged by ${token.agent.email}: ${moved.status}, version ${moved.version}`);
}

const photo = process.argv[2];
if (photo === undefined) throw new Error("usage: node dist/example.js photo.jpg");
await main(photo);
