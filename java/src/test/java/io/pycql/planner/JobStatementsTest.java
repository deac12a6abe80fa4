package io.pycql.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * The statements of persistent queries (jobs): CREATE STREAM | TABLE ... AS query,
 * INSERT INTO stream query, TERMINATE, EXPLAIN ANALYZE query_id; their envelopes and errors.
 */
class JobStatementsTest {
  private static final String CATALOG = "{\"streams\": ["
      + "{\"name\": \"S\", \"topic\": \"S\", \"timestamp\": null, \"format\": \"json\", \"columns\": ["
      + " {\"name\": \"k\", \"type\": \"INTEGER\", \"nullable\": true},"
      + " {\"name\": \"k2\", \"type\": \"VARCHAR\", \"precision\": 10, \"nullable\": true},"
      + " {\"name\": \"v\", \"type\": \"INTEGER\", \"nullable\": true}]},"
      + "{\"name\": \"T\", \"topic\": \"T\", \"timestamp\": null, \"format\": \"json\", \"columns\": ["
      + " {\"name\": \"k\", \"type\": \"INTEGER\", \"nullable\": true},"
      + " {\"name\": \"V\", \"type\": \"INTEGER\", \"nullable\": true}]}],"
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

  private static void error(String sql, String kind, String message, int line, int column)
      throws Exception {
    JsonNode n = analyze(sql);
    assertTrue(n.has("error"), () -> sql + " -> " + n);
    JsonNode e = n.get("error");
    assertEquals(kind, e.path("kind").asText(), e::toString);
    assertTrue(e.path("message").asText().startsWith(message), e::toString);
    assertEquals(line, e.path("line").asInt(), e::toString);
    assertEquals(column, e.path("column").asInt(), e::toString);
  }

  private static String key(String sql) throws Exception {
    return ok(sql).path("key").toString();
  }

  @Test void createTableAsEnvelope() throws Exception {
    String q = "SELECT k, COUNT(*) AS n, SUM(v) AS total FROM S GROUP BY k";
    JsonNode n = ok("CREATE TABLE Counts WITH (Topic = 'counts', partitions = 2) AS " + q + "  ");
    assertEquals("create_table_as", n.path("statement").asText());
    assertEquals("Counts", n.path("name").asText());
    assertEquals("{\"topic\":\"counts\",\"partitions\":\"2\"}", n.path("options").toString());
    assertFalse(n.path("if_not_exists").asBoolean());
    assertEquals(q, n.path("query").asText());
    assertEquals("relation", n.path("plan").path("result").path("kind").asText());
    assertEquals(n.path("plan").path("result").path("columns"), n.path("columns"));
    assertEquals("[\"k\"]", n.path("key").toString());
    JsonNode plain = ok(q);
    assertEquals(plain.path("plan").path("operators"), n.path("plan").path("operators"));
    assertEquals(ok("EXPLAIN " + q).path("text").asText(), n.path("text").asText());
  }

  @Test void uniqueKeysOfCreateTableAs() throws Exception {
    assertEquals("[\"k\"]", key("CREATE TABLE C AS SELECT k, COUNT(*) AS n FROM S GROUP BY k"));
    assertEquals("[\"k2\",\"k\"]",
        key("CREATE TABLE C AS SELECT k2, k, COUNT(*) AS n FROM S GROUP BY k, k2"));
    assertEquals("null", key("CREATE TABLE C AS SELECT COUNT(*) AS n FROM S"));
    assertEquals("null", key("CREATE TABLE C AS SELECT k, v FROM S [RANGE 10 SECONDS]"));
    assertEquals("null", key("CREATE TABLE C AS SELECT COUNT(*) AS n FROM S GROUP BY k"));
    assertEquals("[\"k\"]", key("CREATE TABLE C AS SELECT DISTINCT k FROM S [ROWS 5]"));
  }

  @Test void createStreamAsEnvelope() throws Exception {
    JsonNode n = ok("CREATE STREAM IF NOT EXISTS Big AS ISTREAM(SELECT k, v FROM S [NOW] "
        + "WHERE v > 3)");
    assertEquals("create_stream_as", n.path("statement").asText());
    assertEquals("Big", n.path("name").asText());
    assertTrue(n.path("if_not_exists").asBoolean());
    assertEquals("ISTREAM(SELECT k, v FROM S [NOW] WHERE v > 3)", n.path("query").asText());
    assertEquals("stream", n.path("plan").path("result").path("kind").asText());
    assertTrue(n.path("key").isNull());
    assertEquals(2, n.path("columns").size());
    n = ok("CREATE STREAM Big AS SELECT ISTREAM(k) FROM S [NOW]");
    assertEquals("SELECT ISTREAM(k) FROM S [NOW]", n.path("query").asText());
    // an ORDER BY query's own position is at its sort key; the text is the whole query
    assertEquals("SELECT k FROM S [ROWS 3] ORDER BY k",
        ok("CREATE TABLE X AS SELECT k FROM S [ROWS 3] ORDER BY k").path("query").asText());
    assertEquals("SELECT k FROM S [ROWS 3] ORDER BY k",
        ok("CREATE VIEW X AS SELECT k FROM S [ROWS 3] ORDER BY k").path("query").asText());
    n = ok("CREATE STREAM Copy AS SELECT * FROM S");
    assertEquals(3, n.path("columns").size());
  }

  @Test void createAsErrors() throws Exception {
    error("CREATE STREAM C AS SELECT k FROM S [ROWS 5]", "validate",
        "CREATE STREAM ... AS needs a stream-valued query (ISTREAM, DSTREAM, RSTREAM, or a "
        + "query over streams without a window); use CREATE TABLE ... AS for a relation", 1, 20);
    error("CREATE TABLE C AS SELECT k FROM S", "validate",
        "CREATE TABLE ... AS needs a relation-valued query; use CREATE STREAM ... AS", 1, 19);
    error("CREATE STREAM C AS SELECT k, v AS K FROM S", "validate",
        "The query has two columns named 'K'", 1, 20);
    error("CREATE STREAM C AS SELECT * FROM S, T", "validate",
        "The query has two columns named 'k'", 1, 20);
    error("CREATE TABLE r AS SELECT a FROM R", "validate",
        "Stream or table 'R' already exists", 1, 14);
    error("CREATE STREAM RV AS SELECT k FROM S", "validate",
        "Stream or table 'RV' already exists", 1, 15);
    assertEquals("create_table_as",
        ok("CREATE TABLE IF NOT EXISTS R AS SELECT a FROM R").path("statement").asText());
    error("CREATE OR REPLACE STREAM C AS SELECT k FROM S", "parse",
        "CREATE OR REPLACE is only supported for views", 1, 1);
  }

  @Test void insertQueryEnvelope() throws Exception {
    JsonNode n = ok("INSERT INTO t SELECT k, v FROM S WHERE v > 1");
    assertEquals("insert_query", n.path("statement").asText());
    assertEquals("T", n.path("target").asText());
    assertEquals("SELECT k, v FROM S WHERE v > 1", n.path("query").asText());
    assertEquals("stream", n.path("plan").path("result").path("kind").asText());
    assertEquals(n.path("plan").path("result").path("columns"), n.path("columns"));
    assertTrue(n.path("text").asText().contains("Source(stream S)"));
    assertEquals("ISTREAM(SELECT k, v FROM S [NOW])",
        ok("INSERT INTO T ISTREAM(SELECT k, v FROM S [NOW])").path("query").asText());
    // plain INSERT ... VALUES is unchanged
    assertEquals("insert", ok("INSERT INTO T VALUES (1, 2)").path("statement").asText());
  }

  @Test void insertQueryErrors() throws Exception {
    error("INSERT INTO R SELECT a FROM R", "unsupported",
        "INSERT INTO a table from a query is not supported: use CREATE TABLE ... AS", 1, 13);
    error("INSERT INTO T (k, V) SELECT k, v FROM S", "unsupported",
        "A target column list is not supported", 1, 15);
    error("INSERT INTO T SELECT k, v FROM S [ROWS 3]", "validate",
        "INSERT INTO a stream needs a stream-valued query", 1, 15);
    error("INSERT INTO T SELECT k FROM S", "validate",
        "The query has 1 columns but stream 'T' has 2", 1, 15);
    error("INSERT INTO T SELECT k, k2 FROM S", "validate",
        "Column 2 (k2) of the query is VARCHAR but column V of stream T is INTEGER", 1, 25);
    error("INSERT INTO T SELECT ISTREAM(k, k2) FROM S [NOW]", "validate",
        "Column 2 (k2) of the query is VARCHAR", 1, 33);
    error("INSERT INTO T SELECT * FROM (SELECT k2, k FROM S)", "validate",
        "Column 1 (k2) of the query is VARCHAR", 1, 22);  // at the *
    error("UPSERT INTO T SELECT k, v FROM S", "unsupported",
        "UPSERT from a query is not supported", 1, 15);
    error("INSERT INTO RV SELECT k, v FROM S", "validate",
        "INSERT into view 'RV' is not supported", 1, 13);
    error("INSERT INTO Nope SELECT k, v FROM S", "validate",
        "Unknown stream or table 'Nope'", 1, 13);
  }

  @Test void terminate() throws Exception {
    assertEquals("{\"statement\":\"terminate\",\"query_id\":\"CSAS_BIG_1\"}",
        ok("TERMINATE CSAS_BIG_1").toString());
    assertEquals("{\"statement\":\"terminate\",\"query_id\":\"csas_Big_1\"}",
        ok("terminate \"csas_Big_1\"").toString());
    assertEquals("{\"statement\":\"terminate\",\"query_id\":\"q 1\"}",
        ok("TERMINATE 'q 1'").toString());
    assertEquals("{\"statement\":\"terminate\",\"all\":true,\"query_id\":null}",
        ok("TERMINATE ALL").toString());
    error("TERMINATE", "parse", "Not a statement", 1, 1);
    error("TERMINATE a b", "parse", "Encountered \"b\"", 1, 13);
    // terminate is not reserved
    assertEquals("create_stream",
        ok("CREATE STREAM terminate (terminate INT)").path("statement").asText());
  }

  @Test void explainAnalyzeQueryId() throws Exception {
    assertEquals("{\"statement\":\"explain\",\"analyze\":true,\"query_id\":\"CSAS_BIG_1\","
        + "\"format\":\"text\"}", ok("EXPLAIN ANALYZE CSAS_BIG_1").toString());
    assertEquals("q-1", ok("EXPLAIN ANALYZE 'q-1'").path("query_id").asText());
    JsonNode n = ok("EXPLAIN ANALYZE SELECT * FROM S");
    assertTrue(n.path("analyze").asBoolean());
    assertTrue(n.has("query_id") && n.path("query_id").isNull());
    assertTrue(n.has("plan") && n.has("text"));
    n = ok("EXPLAIN ANALYZE PLAN FOR SELECT * FROM S");
    assertTrue(n.path("query_id").isNull());
  }
}
