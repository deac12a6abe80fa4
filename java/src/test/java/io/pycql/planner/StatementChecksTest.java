package io.pycql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pycql.planner.validate.ExpressionDepth;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Collections;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * What the planner refuses, and with which position, before anything runs: type errors,
 * deep expressions, empty statements, bad windows, unsupported SQL; and the envelopes of
 * INSERT with ROWTIME and of ALTER STREAM ... HEARTBEAT.
 */
class StatementChecksTest {
  private static final String CATALOG = "{\"streams\": ["
      + "{\"name\": \"V\", \"topic\": \"V\", \"timestamp\": null, \"format\": \"json\", \"columns\": ["
      + " {\"name\": \"name\", \"type\": \"VARCHAR\", \"precision\": 20, \"nullable\": true},"
      + " {\"name\": \"k\", \"type\": \"INTEGER\", \"nullable\": true},"
      + " {\"name\": \"d\", \"type\": \"DECIMAL\", \"precision\": 10, \"scale\": 2, \"nullable\": true},"
      + " {\"name\": \"x\", \"type\": \"DOUBLE\", \"nullable\": true},"
      + " {\"name\": \"ts\", \"type\": \"TIMESTAMP\", \"nullable\": true}]},"
      + "{\"name\": \"T\", \"topic\": \"T\", \"timestamp\": \"ts\", \"format\": \"json\", \"columns\": ["
      + " {\"name\": \"a\", \"type\": \"INTEGER\", \"nullable\": true},"
      + " {\"name\": \"ts\", \"type\": \"BIGINT\", \"nullable\": false}]},"
      + "{\"name\": \"W\", \"topic\": \"W\", \"timestamp\": null, \"format\": \"json\", \"columns\": ["
      + " {\"name\": \"ROWTIME\", \"type\": \"BIGINT\", \"nullable\": true},"
      + " {\"name\": \"a\", \"type\": \"INTEGER\", \"nullable\": true}]}],"
      + "\"tables\": [{\"name\": \"R\", \"topic\": \"R\", \"format\": \"json\", \"primary_key\": [\"a\"],"
      + " \"columns\": [{\"name\": \"a\", \"type\": \"INTEGER\", \"nullable\": false}]}],"
      + "\"views\": [{\"name\": \"RV\", \"query\": \"select a from R\", \"columns\": []}]}";

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private static JsonNode analyze(String sql) throws Exception {
    return MAPPER.readTree(CqlPlanner.analyze(sql, CATALOG, "{}"));
  }

  private static JsonNode ok(String sql) throws Exception {
    JsonNode n = analyze(sql);
    assertFalse(n.has("error"), () -> sql + " -> " + n);
    return n;
  }

  private static JsonNode error(String sql, String kind, String message, int line, int column)
      throws Exception {
    JsonNode n = analyze(sql);
    assertTrue(n.has("error"), () -> sql + " -> " + n);
    JsonNode e = n.get("error");
    assertEquals(kind, e.path("kind").asText(), e::toString);
    assertTrue(e.path("message").asText().startsWith(message), e::toString);
    assertEquals(line, e.path("line").asInt(), e::toString);
    assertEquals(column, e.path("column").asInt(), e::toString);
    return e;
  }

  private static JsonNode condition(JsonNode envelope) {
    for (JsonNode op : envelope.path("plan").path("operators")) {
      if (op.has("condition")) {
        return op.get("condition");
      }
    }
    throw new AssertionError("no condition in " + envelope);
  }

  private static String repeat(String item, String sep, int n) {
    return String.join(sep, Collections.nCopies(n, item));
  }

  // ----------------------------------------------------------------- 1. Unicode

  @Test void unicodeLiteralsAreUtf8() throws Exception {
    assertTrue(CalciteDefaults.active(), "Calcite's default charset is UTF-8");
    for (String s : new String[] {"東京", "😀", "Zürich", "日本語テキスト"}) {
      JsonNode c = condition(ok("select name from V where name = '" + s + "'"));
      assertEquals(s, c.path("operands").get(1).path("value").asText(), c::toString);
    }
    JsonNode n = ok("insert into V (name) values ('東京'), (N'😀')");
    assertEquals("東京", n.path("rows").get(0).get(0).path("value").asText());
    assertEquals("😀", n.path("rows").get(1).get(0).path("value").asText());
    ok("select upper(name) || '東' from V where name like '%京'");
  }

  // ---------------------------------------------------------- 2. type errors

  @Test void stringsAndNumbersAreNotComparedOrAdded() throws Exception {
    error("select * from V where name > 5", "validate", "Cannot apply '>' to arguments of type"
        + " '<VARCHAR> > <INTEGER>'", 1, 23);
    error("select k + name from V", "validate", "Cannot apply '+' to arguments of type"
        + " '<INTEGER> + <VARCHAR(20)>'", 1, 8);
    error("select * from V where name = k", "validate", "Cannot apply '='", 1, 23);
    error("select * from V where k between 'a' and 3", "validate", "Cannot apply 'BETWEEN", 1, 23);
    error("select * from V where name in (1, 2)", "validate", "Cannot apply 'IN'", 1, 23);
    error("select * from V where\n  k in (select name from V)", "validate", "Cannot apply 'IN'",
        2, 3);
    error("select abs(name) from V", "validate", "Cannot apply 'ABS'", 1, 8);
    error("insert into V (k) values ('12')", "validate",
        "Cannot assign a CHAR value to column 'k' of type INTEGER", 1, 27);
  }

  @Test void otherCoercionsStillPlan() throws Exception {
    ok("select * from V where k > 2.5 and d < 3 and x >= k and d = x");
    ok("select k + 1.5, d * k, x / d, k / 2 from V");
    ok("select * from V where name = ? and k > ? and ts < ?");
    ok("select case when k > 1 then 1 else 2.5 end, case when k > 1 then 'a' else 'bc' end,"
        + " case k when 1 then 'one' else null end, coalesce(k, 0.5) from V");
    ok("select ts + interval '1' hour, ts - interval '5' second from V"
        + " where ts > timestamp '2024-01-01 00:00:00' and ts < '2024-01-02 00:00:00'");
    ok("select cast(name as integer) + k, name || cast(k as varchar) from V");
    ok("insert into V values ('a', 1, 2.5, 3, timestamp '2024-01-01 00:00:00'),"
        + " (?, ?, ?, ?, ?), ('b', 2.0, 1, 1, '2024-01-01 00:00:01')");
    ok("select k from V union all select d from V");
  }

  // --------------------------------------------------------- 3. deep expressions

  @Test void deepChainsAreRefusedWithTheirPosition() throws Exception {
    JsonNode e = error("select " + repeat("k", " + ", 3000) + " from V", "validate",
        "expression is too deep: 3000 levels, at most 100", 1, 8);
    assertEquals(7 + 3000 * 4 - 3, e.path("end_column").asInt());
    error("select k,\n  " + repeat("k", " * ", ExpressionDepth.MAX_LEVELS + 1) + " from V",
        "validate", "expression is too deep: 101 levels, at most 100", 2, 3);
    error("select " + "abs(".repeat(150) + "k" + ")".repeat(150) + " from V", "validate",
        "expression is too deep: 151 levels, at most 100", 1, 8);
    ok("select " + repeat("k", " + ", ExpressionDepth.MAX_LEVELS) + " from V");
    ok("select " + "abs(".repeat(99) + "k" + ")".repeat(99) + " from V");
    // deeper only once converted (BETWEEN is an AND of two comparisons): the deepest
    // expression of the statement is the position
    error("select k from V where\n (" + repeat("k", " + ", 99) + ") between 1 and 2",
        "validate", "expression is too deep: 101 levels", 2, 2);
  }

  @Test void longAndOrChainsAreFlat() throws Exception {
    String or = IntStream.range(0, 2000).mapToObj(i -> "k = " + i)
        .collect(Collectors.joining(" or "));
    JsonNode c = condition(ok("select * from V where " + or));
    assertEquals("OR", c.path("op").asText());
    assertEquals(2000, c.path("operands").size());
    assertEquals("=", c.path("operands").get(1999).path("op").asText());
    String and = IntStream.range(0, 2000).mapToObj(i -> "(k <> " + i + " or name = 'x')")
        .collect(Collectors.joining(" and "));
    c = condition(ok("select * from V where " + and));
    assertEquals("AND", c.path("op").asText());
    assertEquals(2000, c.path("operands").size());
    ok("select * from V where k in (" + IntStream.range(0, 3000).mapToObj(String::valueOf)
        .collect(Collectors.joining(", ")) + ")");
  }

  @Test void aStackOverflowIsAnErrorOfTheStatement() {
    JsonNode e = CqlPlanner.errorJson(new RuntimeException("while converting",
        new StackOverflowError())).get("error");
    assertEquals("validate", e.path("kind").asText());
    assertTrue(e.path("message").asText().startsWith("expression is too deep"), e::toString);
  }

  @Test void plannerThreadsKeepTheCallersClassLoader() throws Exception {
    ClassLoader mine = new URLClassLoader(new URL[0], getClass().getClassLoader());
    Thread me = Thread.currentThread();
    ClassLoader saved = me.getContextClassLoader();
    me.setContextClassLoader(mine);
    try {
      assertSame(mine, CqlPlanner.onPlannerThread(
          () -> Thread.currentThread().getContextClassLoader()));
      String name = CqlPlanner.onPlannerThread(() -> Thread.currentThread().getName());
      assertTrue(name.startsWith("cql-planner-"), name);
    } finally {
      me.setContextClassLoader(saved);
    }
  }

  // ------------------------------------------------------------ 4. empty statements

  @Test void emptyStatements() throws Exception {
    for (String sql : new String[] {"", "   ", "\n\t", "-- only a comment", "/* c */", ";",
        " ; ;\n-- c\n"}) {
      JsonNode e = analyze(sql).path("error");
      assertEquals("validate", e.path("kind").asText(), () -> "'" + sql + "' -> " + e);
      assertEquals("empty statement: nothing to execute", e.path("message").asText());
      assertTrue(e.path("line").isNull());
    }
    assertEquals("parse", analyze("/* unterminated").path("error").path("kind").asText());
  }

  // ------------------------------------------------------------------ 5, 6. windows

  @Test void windowBounds() throws Exception {
    JsonNode e = error("select * from V [RANGE 1 SECONDS SLIDE 0 SECONDS]", "validate",
        "SLIDE (0 SECONDS) must be greater than zero", 1, 17);
    assertEquals(49, e.path("end_column").asInt());
    error("select * from V [RANGE 1 SECOND SLIDE 2 SECONDS]", "validate",
        "SLIDE (2 SECONDS) must not exceed RANGE (1 SECOND)", 1, 17);
    error("select * from V [RANGE 30 SLIDE 1 MINUTE]", "validate",
        "SLIDE (1 MINUTE) must not exceed RANGE (30)", 1, 17);
    error("select * from V [RANGE 0 SECONDS]", "validate", "RANGE (0 SECONDS) must be greater "
        + "than zero", 1, 17);
    error("select * from V [RANGE -1 HOUR]", "validate", "RANGE (-1 HOUR) must be", 1, 17);
    error("select * from V [RANGE 1 HOUR SLIDE -5 MINUTES]", "validate",
        "SLIDE (-5 MINUTES) must be greater than zero", 1, 17);
    error("select * from V [ROWS 0]", "validate", "ROWS (0) must be at least 1", 1, 17);
    error("select * from V [ROWS -3]", "validate", "ROWS (-3) must be at least 1", 1, 17);
    error("select * from V [PARTITION BY k ROWS 0]", "validate", "ROWS (0) must be at least 1",
        1, 17);
    error("select * from V [RANGE 99999999999999999999 DAYS]", "parse", "Duration", 1, 24);
    ok("select * from V [RANGE 1 MINUTE SLIDE 1 MINUTE]");  // tumbling
    ok("select * from V [RANGE 1 MINUTE SLIDE 60 SECONDS]");
    ok("select * from V [ROWS 1]");
    ok("select * from V [PARTITION BY k ROWS 1]");
  }

  @Test void windowsAreShownAsWritten() throws Exception {
    error("select * from R [RANGE 1 MINUTE]", "validate",
        "Window [RANGE 1 MINUTE] on table 'R': windows apply to streams only", 1, 17);
    error("select * from R [range  2 hours slide 5 minutes]", "validate",
        "Window [range  2 hours slide 5 minutes] on table 'R'", 1, 17);
    error("select * from RV [Partition By a Rows 3]", "validate",
        "Window [Partition By a Rows 3] on view 'RV'", 1, 18);
  }

  // -------------------------------------------------------- 7. unsupported, positioned

  @Test void aggregateFilterIsTheIndexOfABooleanColumn() throws Exception {
    JsonNode n = ok("select count(*) filter (where k > 1), stddev_pop(k) from V [ROWS 3]");
    JsonNode agg = null;
    for (JsonNode op : n.path("plan").path("operators")) {
      if (op.path("op").asText().equals("aggregate")) {
        agg = op;
      }
    }
    assertTrue(agg != null, n::toString);
    JsonNode count = agg.path("aggs").get(0);
    int f = count.path("filter").asInt(-1);
    assertTrue(f >= 0, count::toString);
    assertEquals("STDDEV_POP", agg.path("aggs").get(1).path("fn").asText());
    assertFalse(agg.path("aggs").get(1).has("filter"));
  }

  @Test void timestampDiffInSubSecondUnitsCountsMilliseconds() throws Exception {
    String plan = ok("select timestampdiff(microsecond, ts, ts + interval '1.5' second) from V")
        .toString();
    assertFalse(plan.contains("/INT"), plan);
    assertTrue(plan.contains("\"value\":1000,"), plan);
  }

  @Test void timestampMinusTimestampSaysWhatToWrite() throws Exception {
    error("select ts - ts from V", "validate", "Cannot apply '-'", 1, 8);
    assertTrue(analyze("select ts - ts from V").get("error").path("message").asText()
        .contains("(t2 - t1) DAY TO SECOND"));
  }

  @Test void libraryFunctionsPlan() throws Exception {
    ok("select concat(name, '!', name), lpad(name, 5, '*'), rpad(name, 5), left(name, 2), "
        + "right(name, 2), greatest(k, 15), least(k, 1, 2), nvl(name, 'x'), length(name), "
        + "instr(name, 'a'), strpos(name, 'a'), regexp_replace(name, 'a+', 'b'), "
        + "split_part(name, ',', 2) from V");
  }

  @Test void unsupportedErrorsHavePositions() throws Exception {
    error("SELECT k FROM V WHERE k IN (SELECT ISTREAM(k) FROM V [NOW])", "unsupported",
        "ISTREAM is only allowed", 1, 36);
    error("select lag(k) over (order by k) from V [ROWS 3]", "unsupported",
        "The window function LAG", 1, 8);
    error("select * from V [ROWS 3] order by k offset ? rows", "unsupported",
        "OFFSET must be a constant", 1, 44);
    error("update R set a = 1", "unsupported", "UPDATE is not supported", 1, 1);
    error("insert into R select * from R", "unsupported", "INSERT INTO a table from a query", 1, 13);
    error("explain plan for delete from R", "unsupported", "EXPLAIN applies to queries", 1, 18);
    error("describe V k", "unsupported", "DESCRIBE of a single column", 1, 12);
    error("select * from (select * from V [ROWS 2]) [NOW]", "validate",
        "Window [NOW] on a subquery that is a relation", 1, 42);
  }

  // ------------------------------------------------------------- 8. INSERT ROWTIME

  @Test void insertWithRowtime() throws Exception {
    JsonNode n = ok("insert into V (ROWTIME, name, k) values"
        + " (TIMESTAMP '2024-01-01 00:00:00', 'a', 1), (1704067200001, 'b', 2), (?, 'c', ?),"
        + " (null, 'd', 4), (timestamp '2024-01-01 00:00:00' + interval '1' second, 'e', 5)");
    assertEquals("[\"name\",\"k\"]", n.path("columns").toString());
    assertEquals(5, n.path("rows").size());
    assertEquals(2, n.path("rows").get(0).size());
    JsonNode ts = n.path("timestamps");
    assertEquals(5, ts.size());
    assertEquals(1704067200000L, ts.get(0).path("value").asLong());
    assertEquals("TIMESTAMP", ts.get(0).path("type").asText());
    assertEquals(1704067200001L, ts.get(1).path("value").asLong());
    assertEquals("BIGINT", ts.get(1).path("type").asText());
    assertEquals("param", ts.get(2).path("kind").asText());
    assertEquals(0, ts.get(2).path("index").asInt());
    assertEquals("TIMESTAMP", ts.get(2).path("type").asText());
    assertEquals(1, n.path("rows").get(2).get(1).path("operands").get(0).path("index").asInt());
    assertTrue(ts.get(3).path("value").isNull());
    assertEquals(1704067201000L, ts.get(4).path("value").asLong());
    // the value may come anywhere in the row; lower case works too; INTEGER becomes BIGINT
    n = ok("insert into V (name, rowtime) values ('a', 5)");
    assertEquals("[\"name\"]", n.path("columns").toString());
    assertEquals("BIGINT", n.path("timestamps").get(0).path("type").asText());
    assertTrue(ok("insert into V (name) values ('a')").path("timestamps").isNull());
    assertTrue(ok("insert into V values ('a', 1, 1, 1, null)").path("timestamps").isNull());
    // the timestamp column of T may be left to ROWTIME although it is NOT NULL
    n = ok("insert into T (rowtime, a) values (1000, 1)");
    assertEquals("[\"a\"]", n.path("columns").toString());
    // a stream with a column named ROWTIME: an ordinary column
    n = ok("insert into W (ROWTIME, a) values (5, 1)");
    assertEquals("[\"ROWTIME\",\"a\"]", n.path("columns").toString());
    assertTrue(n.path("timestamps").isNull());
  }

  @Test void rowtimeErrors() throws Exception {
    error("insert into R (ROWTIME, a) values (1, 2)", "validate",
        "ROWTIME is the event time of a stream's elements; 'R' is a table", 1, 16);
    error("insert into V (ROWTIME, k) values ('soon', 2)", "validate",
        "ROWTIME must be a TIMESTAMP or a BIGINT (epoch milliseconds), not CHAR(4)", 1, 36);
    error("insert into V (ROWTIME, k) values (1.5, 2)", "validate",
        "ROWTIME must be a TIMESTAMP or a BIGINT", 1, 36);
    error("insert into V (ROWTIME, k, rowtime) values (1, 2, 3)", "validate",
        "Target column 'ROWTIME' is given twice", 1, 28);
    error("insert into T (ROWTIME, ts) values (1, 2)", "validate",
        "ROWTIME of stream 'T' is its timestamp column 'ts'", 1, 16);
    error("insert into V (ROWTIME, k) values (1)", "validate",
        "Row has 1 values but 2 target columns", 1, 35);
  }

  // ------------------------------------------------------------------ 9. HEARTBEAT

  @Test void heartbeat() throws Exception {
    JsonNode n = ok("ALTER STREAM v HEARTBEAT TIMESTAMP '2024-01-01 00:00:05'");
    assertEquals("heartbeat", n.path("statement").asText());
    assertEquals("V", n.path("target").asText());
    assertEquals("literal", n.path("timestamp").path("kind").asText());
    assertEquals(1704067205000L, n.path("timestamp").path("value").asLong());
    assertEquals("TIMESTAMP", n.path("timestamp").path("type").asText());
    n = ok("alter stream V heartbeat 1704067205000");
    assertEquals(1704067205000L, n.path("timestamp").path("value").asLong());
    assertEquals("BIGINT", n.path("timestamp").path("type").asText());
    n = ok("alter stream V heartbeat ?");
    assertEquals("param", n.path("timestamp").path("kind").asText());
    assertEquals("TIMESTAMP", n.path("timestamp").path("type").asText());
    error("alter stream R heartbeat 5", "validate", "HEARTBEAT applies to streams; 'R' is a table",
        1, 14);
    error("alter stream RV heartbeat 5", "validate", "HEARTBEAT applies to streams; 'RV' is a view",
        1, 14);
    error("alter stream Nope heartbeat 5", "validate", "Unknown stream 'Nope'", 1, 14);
    error("alter stream V heartbeat 'x'", "validate", "The HEARTBEAT timestamp must be", 1, 26);
    error("alter stream V heartbeat", "parse", "Encountered", 1, 24);
    // a stream may be called HEARTBEAT
    assertEquals("create_stream",
        ok("create stream heartbeat (a int)").path("statement").asText());
  }

  // ------------------------------------------------------------ 10. WITH options

  @Test void streamOptionsPassThrough() throws Exception {
    JsonNode n = ok("create stream S9 (a int, ts timestamp) with (timestamp = 'ts',"
        + " lateness = '2 s', idle_timeout = '5 s', max_future = '1 h',"
        + " idle_advance = 'wall_clock', Partitions = 3)");
    assertEquals("{\"timestamp\":\"ts\",\"lateness\":\"2 s\",\"idle_timeout\":\"5 s\","
        + "\"max_future\":\"1 h\",\"idle_advance\":\"wall_clock\",\"partitions\":\"3\"}",
        n.path("options").toString());
  }
}
