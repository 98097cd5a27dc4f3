package io.mirrorball.ipfs.kubo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mirrorball.ipfs.CarWriter;
import io.mirrorball.ipfs.Cid;
import io.mirrorball.ipfs.CompletenessWalk;
import io.mirrorball.ipfs.VerifyingCarReader;
import io.mirrorball.ipfs.embedded.EmbeddedNode;
import io.mirrorball.testing.KuboNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CarWriter's output in a real Kubo ({@code dag import}), and Kubo's {@code dag export} through CarWriter. */
final class KuboCarWriterTest {
    private static final Pattern ROOT = Pattern.compile("\"Cid\"\\s*:\\s*\\{\\s*\"/\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern PIN_ERROR = Pattern.compile("\"PinErrorMsg\"\\s*:\\s*\"([^\"]+)\"");
    private static final Pattern HASH = Pattern.compile("\"Hash\"\\s*:\\s*\"([^\"]+)\"");

    @TempDir
    Path dir;

    @Test
    void dagImport_carWriterOutputOfTwoRoots_kuboFindsBothRootsAndTheSameDags() throws IOException {
        byte[] content = new byte[3 * 262_144 + 10];
        new Random(7).nextBytes(content);
        List<Cid> roots;
        byte[] car;
        List<Set<Cid>> embeddedDags = new ArrayList<>();
        try (EmbeddedNode node = EmbeddedNode.open(dir.resolve("embedded"))) {
            Cid file = node.add(new ByteArrayInputStream(content)).cid();
            node.filesCp("/ipfs/" + file, "/a/file");
            node.filesCp("/ipfs/" + file, "/b/file");
            node.filesWrite("/a/own", "only in a".getBytes(StandardCharsets.UTF_8));
            node.filesWrite("/b/own", "only in b".getBytes(StandardCharsets.UTF_8));
            roots = List.of(node.filesFlush("/a"), node.filesFlush("/b"));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            CarWriter writer = CarWriter.start(out, roots);
            for (Cid root : roots) {
                writer.copy(root, node::blockGet);
                embeddedDags.add(cids(node.dagExport(root)));
            }
            writer.finish();
            car = out.toByteArray();
        }

        try (KuboNode kubo = KuboNode.start(dir.resolve("kubo"))) {
            String answer = kubo.rpcWithFile("dag/import?pin-roots=true", car);

            List<Cid> imported = new ArrayList<>();
            for (Matcher m = ROOT.matcher(answer); m.find(); ) {
                imported.add(Cid.parse(m.group(1)));
            }
            assertEquals(Set.copyOf(roots), Set.copyOf(imported), answer);
            assertTrue(PIN_ERROR.matcher(answer).results().findAny().isEmpty(), "no pin error: " + answer);
            for (int i = 0; i < roots.size(); i++) {
                Path export = kubo.rpcToFile("dag/export?arg=" + roots.get(i), dir.resolve("kubo-" + i + ".car"));
                assertEquals(embeddedDags.get(i), cids(Files.newInputStream(export)), "the DAG under " + roots.get(i));
            }
        }
    }

    @Test
    void copyCar_kuboDagExport_importsIntoAnEmbeddedNodeComplete() throws IOException {
        byte[] content = new byte[2 * 262_144 + 99];
        new Random(8).nextBytes(content);
        Cid root;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (KuboNode kubo = KuboNode.start(dir.resolve("kubo"))) {
            Matcher m = HASH.matcher(kubo.rpcWithFile("add?cid-version=1&raw-leaves=true&pin=false", content));
            assertTrue(m.find());
            root = Cid.parse(m.group(1));
            Path export = kubo.rpcToFile("dag/export?arg=" + root, dir.resolve("kubo.car"));
            CarWriter writer = CarWriter.start(out, List.of(root));
            try (InputStream in = Files.newInputStream(export)) {
                assertEquals(List.of(root), writer.copyCar(in));
            }
            writer.finish();
            assertEquals(4, writer.blocksWritten(), "a file node and three leaves");
        }

        try (EmbeddedNode fresh = EmbeddedNode.open(dir.resolve("fresh"))) {
            assertEquals(List.of(root), fresh.dagImport(new ByteArrayInputStream(out.toByteArray())));
            assertEquals(Optional.empty(), CompletenessWalk.firstMissing(root, CompletenessWalk.of(fresh)));
            try (InputStream in = fresh.cat(root.toString(), 0, -1)) {
                assertArrayEquals(content, in.readAllBytes());
            }
        }
    }

    private static Set<Cid> cids(InputStream car) throws IOException {
        Set<Cid> cids = new LinkedHashSet<>();
        try (VerifyingCarReader reader = VerifyingCarReader.of(car)) {
            Optional<VerifyingCarReader.Section> section;
            while ((section = reader.nextSection()).isPresent()) {
                cids.add(section.get().cid());
            }
        }
        return cids;
    }
}
