package io.mirrorball.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README, for users: its configuration table names every key, and it points nowhere outside the repository. */
final class ReadmeTest {
    private static final Path BASE = Path.of(System.getProperty("mirrorball.basedir", ".")).toAbsolutePath().normalize();
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

    private static List<String> readme() throws IOException {
        return Files.readAllLines(BASE.resolve("README.md"));
    }

    /** The keys in the first column of the table under "## Configure"; {@code `.name`} continues the key before it. */
    static Set<String> tableKeys(List<String> lines) {
        Set<String> keys = new LinkedHashSet<>();
        boolean inSection = false;
        for (String line : lines) {
            if (line.startsWith("## ")) {
                inSection = line.startsWith("## Configure");
            } else if (inSection && line.startsWith("| `")) {
                String cell = line.substring(1, line.indexOf('|', 1));
                String previous = null;
                Matcher m = CODE.matcher(cell);
                while (m.find()) {
                    String key = m.group(1);
                    if (key.startsWith(".") && previous != null) {
                        key = previous.substring(0, previous.lastIndexOf('.')) + key;
                    }
                    keys.add(key);
                    previous = key;
                }
            }
        }
        return keys;
    }

    @Test
    void tableKeys_relativeKeys_continueThePreviousKey() {
        assertEquals(Set.of("upstream.url", "upstream.name", "http.tls.certificate", "http.tls.key", "log.level"),
                tableKeys(List.of("## Configure", "| key | default |",
                        "| `upstream.url`, `.name` | `\"\"` | x |",
                        "| `http.tls.certificate`, `.key` | `\"\"` | x |",
                        "| `log.level` | `info` | x |",
                        "## Use", "| `not.a.key` | |")));
    }

    @Test
    void readme_configurationTable_namesEveryKey() throws IOException {
        Set<String> documented = tableKeys(readme());
        List<String> missing = new ArrayList<>();
        for (String key : ConfigLoader.keys()) {
            if (!documented.contains(key)) {
                missing.add(key);
            }
        }
        assertTrue(missing.isEmpty(), "keys missing from the README's configuration table: " + missing);
        assertTrue(documented.contains("upstreams"), "upstreams is not in the README's configuration table");
    }

    @Test
    void readme_links_stayInsideTheRepository() throws IOException {
        String text = String.join("\n", readme());
        assertTrue(!text.contains("../") && !text.contains("/work/"), "the README points outside the repository");
        Matcher m = LINK.matcher(text);
        int links = 0;
        while (m.find()) {
            String target = m.group(1);
            links++;
            if (target.startsWith("https://") || target.startsWith("http://") || target.startsWith("#")) {
                continue;
            }
            String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
            Path resolved = BASE.resolve(file).normalize();
            assertTrue(resolved.startsWith(BASE) && !file.startsWith("/"), target + " leaves the repository");
        }
        assertTrue(links > 0, "no links found: the pattern no longer matches the README");
    }

    @Test
    void readme_runAndTestCommands_areTheOnesTheRepositoryHas() throws IOException {
        List<String> lines = readme();
        assertTrue(lines.contains("    ./mirrorball serve"), "the README lost its run command");
        assertTrue(lines.contains("    bash tests/run.sh"), "the README lost its test command");
        assertTrue(Files.isExecutable(BASE.resolve("mirrorball")), "./mirrorball is not executable");
        assertTrue(Files.readString(BASE.resolve(".ci/run")).contains("exec bash tests/run.sh"),
                ".ci/run no longer runs the README's test command");
        assertTrue(Files.isRegularFile(BASE.resolve("tests/run.sh")), "tests/run.sh is missing");
    }
}
