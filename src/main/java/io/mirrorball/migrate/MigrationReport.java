package io.mirrorball.migrate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.mirrorball.migrate.progress.Units;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a migration did, printed on stdout when it ends: every image copied (source, destination,
 * manifest digest, CID) as a table or as JSON ({@code [{"source","digest","cid"}, ...]}, failures
 * after them as {@code {"source","error":{"kind","message"}}}), then every failure with its reason.
 */
public record MigrationReport(List<ImageResult> results, List<ImageFailure> failures, boolean dryRun) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public MigrationReport {
        results = List.copyOf(results);
        failures = List.copyOf(failures);
    }

    /** This report with more failures (sources that could not be opened) before its own. */
    public MigrationReport withFailures(List<ImageFailure> more) {
        List<ImageFailure> all = new ArrayList<>(more);
        all.addAll(failures);
        return new MigrationReport(results, all, dryRun);
    }

    public boolean failed() {
        return !failures.isEmpty();
    }

    public void printJson(PrintWriter out) {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (ImageResult result : results) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("source", result.source());
            entry.put("digest", result.digest().toString());
            entry.put("cid", result.cid() == null ? null : result.cid().toString());
            entries.add(entry);
        }
        for (ImageFailure failure : failures) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("kind", failure.kind().name());
            error.put("message", failure.message());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("source", failure.source());
            entry.put("error", error);
            entries.add(entry);
        }
        try {
            out.println(JSON.writeValueAsString(entries));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot happen: plain maps and strings", e);
        }
        out.flush();
    }

    public void printTable(PrintWriter out) {
        if (!results.isEmpty()) {
            List<String[]> rows = new ArrayList<>();
            rows.add(dryRun ? new String[] {"SOURCE", "DESTINATION", "DIGEST", "CID (if there)", "TO COPY", "PRESENT"}
                    : new String[] {"SOURCE", "DESTINATION", "DIGEST", "CID", "COPIED", "SKIPPED"});
            for (ImageResult result : results) {
                rows.add(new String[] {result.source(), result.destination(), result.digest().toString(),
                    result.cid() == null ? "-" : result.cid().toString(),
                    result.blobsCopied() + " (" + Units.bytes(result.bytesCopied()) + ")",
                    Integer.toString(result.blobsSkipped())});
            }
            printRows(out, rows);
        }
        if (!failures.isEmpty()) {
            if (!results.isEmpty()) {
                out.println();
            }
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"FAILED", "KIND", "REASON"});
            for (ImageFailure failure : failures) {
                rows.add(new String[] {failure.source(), failure.kind().name(), failure.message()});
            }
            printRows(out, rows);
        }
        long bytes = results.stream().mapToLong(ImageResult::bytesCopied).sum();
        out.println();
        out.println((dryRun ? "dry run: " : "") + results.size() + " image(s) " + (dryRun ? "planned" : "copied")
                + ", " + failures.size() + " failed, " + Units.bytes(bytes) + (dryRun ? " to copy" : " copied"));
        out.flush();
    }

    private static void printRows(PrintWriter out, List<String[]> rows) {
        int columns = rows.get(0).length;
        int[] widths = new int[columns];
        for (String[] row : rows) {
            for (int i = 0; i < columns - 1; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(row[i]);
                if (i < columns - 1) {
                    line.append(" ".repeat(widths[i] - row[i].length() + 2));
                }
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
