/**
 * The therapy-kb API from TypeScript: openapi-fetch over the types openapi-typescript generates
 * into src/schema.d.ts (`make sdk`). Paths, parameters and answers are all type-checked.
 *
 *   npm ci && npm run build
 *   THERAPY_KB_URL=http://127.0.0.1:8000 npm run example
 *
 * It lists modalities, reads one, compares them, searches, downloads a BibTeX entry and the
 * whole knowledge base as a zip of CSV tables, and prints a JSON summary of what it got.
 */
import { createHash } from "node:crypto";

import createClient from "openapi-fetch";

import type { paths } from "./src/schema.js";

const api = createClient<paths>({
  baseUrl: process.env.THERAPY_KB_URL ?? "http://127.0.0.1:8000",
});

/** The body of a successful answer; an error answer (problem+json) throws with its detail. */
function ok<T>(answer: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (answer.data === undefined) {
    const problem = answer.error as { detail?: string } | undefined;
    throw new Error(`${what}: HTTP ${answer.response.status}: ${problem?.detail ?? "no body"}`);
  }
  return answer.data;
}

async function main(): Promise<void> {
  // Approaches (not delivery formats), by name, three to a page.
  const page = ok(
    await api.GET("/v1/modalities", {
      params: { query: { category: "approach", sort: "name", limit: 3 } },
    }),
    "list modalities",
  );
  const slugs = page.items.map((modality) => modality.slug);
  const first = slugs[0];
  if (first === undefined) throw new Error("no modality is loaded");

  // One modality, with its indications and the citation keys behind every claim.
  const modality = ok(
    await api.GET("/v1/modalities/{slug}", { params: { path: { slug: first } } }),
    "get modality",
  );

  // Side by side: `modalities` is an array, sent as a repeated parameter.
  const comparison = ok(
    await api.GET("/v1/compare", { params: { query: { modalities: slugs } } }),
    "compare modalities",
  );

  const q = "grief";
  const hits = ok(await api.GET("/v1/search", { params: { query: { q, limit: 5 } } }), "search");

  // A citation format is an operation of its own (getCitationBibtex), and its body is text.
  const key = modality.citations[0];
  if (key === undefined) throw new Error(`${first} cites nothing`);
  const bibtex = ok(
    await api.GET("/v1/citations/{key}.bib", { params: { path: { key } }, parseAs: "text" }),
    "BibTeX",
  );

  // The whole knowledge base as a zip of CSV tables: bytes, with a checksum to keep.
  const zip = Buffer.from(
    ok(
      await api.GET("/v1/export.zip", { parseAs: "arrayBuffer" }),
      "CSV export",
    ),
  );

  const summary = {
    list: { total: page.total, slugs },
    detail: {
      slug: modality.slug,
      name: modality.name,
      indications: modality.indications.map(
        (i) => `${i.condition} (${i.population}): ${i.evidence}`,
      ),
    },
    compare: {
      columns: comparison.evidence_matrix.columns,
      modalities: comparison.modalities.map((column) => column.slug),
      rows: comparison.evidence_matrix.rows.length,
    },
    search: { q, total: hits.total, ids: hits.items.map((hit) => hit.id) },
    bibtex: { key, text: bibtex },
    export: { bytes: zip.length, sha256: createHash("sha256").update(zip).digest("hex") },
  };
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
