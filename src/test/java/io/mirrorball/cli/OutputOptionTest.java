package io.mirrorball.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** {@code --output table|json}, the one option of every command that prints a result. */
final class OutputOptionTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gc", "cache ls", "cache prune", "migrate --store docker://localhost:1/app:v1"})
    void output_neitherTableNorJson_usageErrorNamingTheValue(String command) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine(Map.of());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));

        int code = cli.execute((command + " --output yaml").split(" "));

        assertEquals(Main.EXIT_USAGE, code, err.toString());
        assertTrue(err.toString().startsWith("--output must be table or json, not 'yaml'"), err.toString());
        assertEquals("", out.toString());
    }
}
