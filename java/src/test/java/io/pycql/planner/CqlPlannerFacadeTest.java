package io.pycql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** CqlPlanner.analyze end to end: envelopes, stream/relation results, error JSON. */
class CqlPlannerFacadeTest {
  private static final String CATALOG = "{\"streams\": ["
      + "{\"name\": \"S\", \"columns\": [{\"name\": \"A\", \"type\": \"INTEGER\", \"nullable\": true},"
      + " {\"name\": \"B\", \"type\": \"INTEGER\", \"nullable\": true}], \"topic\": \"S\","
      + " \"timestamp\": null, \"format\": \"json\"},"
      + "{\"name\": \"S2\", \"columns\": [{\"name\": \"A\", \"type\": \"INTEGER\", \"nullable\": true}],"
      + " \"topic\": \"S2\", \"timestamp\": null, \"format\": \"json\"}],"
      + "\"tables\": [{\"name\": \"R\", \"columns\": [{\"name\": \"A\", \"type\": \"INTEGER\","
      + " \"nullable\": false}, {\"name\": \"X\", \"type\": \"VARCHAR\", \"nullable\": true}],"
      + " \"primary_key\": [\"A\"], \"topic\": \"R\", \"format\": \"json\"}],"
      + "\"views\": [{\"name\": \"VS\", \"query\": \"select A/2, A from S where (S.A / 2) * 2 = S.A\","
      + " \"columns\": [{\"name\": \"A\"}, {\"name\": \"B\"}]},"
      + " {\"name\": \"VR\", \"query\": \"select B, count(*) from S [ROWS 5] group by B\","
      + " \"columns\": []}]}";

  private static JsonNode analyze(String sql) throws Exception {
    return new ObjectMapper().readTree(CqlPlanner.analyze(sql, CATALOG, "{}"));
  }

  private static String resultKind(String sql) throws Exception {
    JsonNode n = analyze(sql);
    assertFalse(n.has("error"), () -> sql + " -> " + n);
    return n.path("plan").path("result").path("kind").asText();
  }

  private static JsonNode error(String sql) throws Exception {
    JsonNode n = analyze(sql);
    assertTrue(n.has("error"), () -> sql + " -> " + n);
    return n.get("error");
  }

  private static void assertError(String sql, String kind, String message, int line, int column,
      int endColumn) throws Exception {
    JsonNode e = error(sql);
    assertEquals(kind, e.path("kind").asText(), e::toString);
    assertTrue(e.path("message").asText().startsWith(message), e::toString);
    assertEquals(line, e.path("line").asInt(), e::toString);
    assertEquals(column, e.path("column").asInt(), e::toString);
    assertEquals(endColumn, e.path("end_column").asInt(), e::toString);
  }

  @Test void streamOrRelation() throws Exception {
    assertEquals("stream", resultKind("select * from S"));
    assertEquals("stream", resultKind("select * from S [UNBOUNDED] where a > 1"));
    assertEquals("stream", resultKind("select s.a, s2.a from S, S2 where s.a = s2.a"));
    assertEquals("relation", resultKind("select * from S [Rows 2]"));
    assertEquals("relation", resultKind("Select B, Sum(A) from S Group By B"));
    assertEquals("relation", resultKind("select * from R"));
    assertEquals("relation", resultKind("select * from S, R where S.A = R.A"));
    assertEquals("relation", resultKind("select distinct a from S"));
    assertEquals("stream", resultKind("SELECT ISTREAM(*) FROM S [RANGE 30 SECONDS] WHERE a > 6"));
    assertEquals("stream", resultKind("Rstream(select * from S [Now], R where S.A = R.A)"));
    assertEquals("stream", resultKind("select A, B from VS"));
    assertEquals("relation", resultKind("select * from VR"));
    assertEquals("relation", resultKind("select * from VS [ROWS 1]"));
  }

  @Test void declaredColumnNamesAndParams() throws Exception {
    JsonNode plan = analyze("select b, sum(a) from s [range 1 hour] where a > ? group by b")
        .path("plan");
    assertEquals("B", plan.path("result").path("columns").get(0).path("name").asText());
    assertEquals(1, plan.path("params").size());
    assertEquals("INTEGER", plan.path("params").get(0).path("type").asText());
  }

  @Test void errors() throws Exception {
    assertError("select * from X", "validate", "Unknown stream or table 'X'", 1, 15, 15);
    assertError("select * from R [RANGE 1 HOUR]", "validate",
        "Window [RANGE 1 HOUR] on table 'R': windows apply to streams only",
        1, 17, 30);
    assertError("select * from VR [NOW]", "validate", "Window [NOW] on view 'VR'", 1, 18, 22);
    assertError("select foo\nfrom S", "validate", "Column 'foo' not found in any table",
        1, 8, 10);
    assertError("select * from S [RANGE 3 SECODNS]", "parse", "Unknown time unit 'SECODNS'",
        1, 26, 32);
    assertError("select * from S [PARTITION BY z ROWS 1]", "validate",
        "Column 'z' not found in stream 'S'", 1, 31, 31);
    assertError("select * from (select * from S [ROWS 2]) [NOW]", "validate",
        "Window [NOW] on a subquery that is a relation", 1, 42, 46);
    JsonNode e = error("select * frm S");
    assertEquals("parse", e.path("kind").asText());
    assertFalse(e.path("message").asText().contains("Exception"));
  }

  @Test void statements() throws Exception {
    JsonNode n = analyze("create stream T (a int not null, b decimal(5,2)) with (topic = 't')");
    assertEquals("create_stream", n.path("statement").asText());
    assertEquals("DECIMAL", n.path("columns").get(1).path("type").asText());
    assertEquals(5, n.path("columns").get(1).path("precision").asInt());
    assertEquals("t", n.path("options").path("topic").asText());
    n = analyze("create table T (a int, b varchar, primary key (A))");
    assertEquals("a", n.path("primary_key").get(0).asText());
    n = analyze("create view V2 (x) as select a from S [now]");
    assertEquals("relation", n.path("kind").asText());
    assertEquals("x", n.path("columns").get(0).path("name").asText());
    assertEquals("select a from S [now]", n.path("query").asText());
    n = analyze("create view V3 as select a from S where a > 1");
    assertEquals("stream", n.path("kind").asText());
    n = analyze("insert into S (B, A) values (1, ?), (-3, null)");
    assertEquals("insert", n.path("statement").asText());
    assertEquals("[\"B\",\"A\"]", n.path("columns").toString());
    assertEquals(2, n.path("rows").size());
    assertEquals(-3, n.path("rows").get(1).get(0).path("value").asInt());
    assertFalse(n.path("upsert").asBoolean());
    assertTrue(analyze("upsert into R values (1, 'x')").path("upsert").asBoolean());
    n = analyze("delete from R where A > 3");
    assertEquals("GREATER_THAN", n.path("condition").path("sqlkind").asText());
    assertEquals("drop", analyze("drop stream if exists S").path("statement").asText());
    assertEquals("S", analyze("describe S").path("name").asText());
    assertEquals("queries", analyze("show queries").path("what").asText());
    n = analyze("explain select * from S [rows 3]");
    assertEquals("text", n.path("format").asText());
    assertTrue(n.path("text").asText().contains("ROWS 3") || n.path("text").asText()
        .toUpperCase().contains("ROWS"), n::toString);
    assertEquals("json", analyze("EXPLAIN PLAN AS JSON FOR select * from S")
        .path("format").asText());
    assertError("delete from S", "validate", "DELETE applies to tables only", 1, 13, 13);
    assertError("insert into S (A, Q) values (1, 2)", "validate", "Unknown target column 'Q'",
        1, 19, 19);
  }
}
