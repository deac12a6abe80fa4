package io.pycql.planner;

/**
 * Plans a few representative statements, so that a JVM run with
 * {@code -XX:ArchiveClassesAtExit=FILE} records every class the planner loads into a
 * class-data-sharing archive. The Python bridge starts its JVM with that archive when
 * it exists, which cuts the cold first plan (see {@code benchmarks/planning.py}).
 */
public final class Warmup {
  private Warmup() {}

  static final String CATALOG =
      "{\"streams\": [{\"name\": \"S\", \"topic\": \"S\", \"timestamp\": null, \"format\": \"json\","
          + " \"columns\": [{\"name\": \"A\", \"type\": \"INTEGER\", \"nullable\": true},"
          + " {\"name\": \"B\", \"type\": \"DOUBLE\", \"nullable\": true},"
          + " {\"name\": \"C\", \"type\": \"VARCHAR\", \"nullable\": true}]}],"
          + " \"tables\": [{\"name\": \"R\", \"topic\": \"R\", \"format\": \"json\", \"primary_key\": [\"A\"],"
          + " \"columns\": [{\"name\": \"A\", \"type\": \"INTEGER\", \"nullable\": true}]}],"
          + " \"views\": []}";

  static final String[] STATEMENTS = {
    "SELECT ISTREAM(*) FROM S [RANGE 30 SECONDS] WHERE A > 65",
    "SELECT A, COUNT(*), AVG(B), MAX(C) FROM S [RANGE 1 HOUR SLIDE 5 MINUTES] GROUP BY A HAVING COUNT(*) > 1",
    "RSTREAM(SELECT S.A, R.A FROM S [NOW] JOIN R ON S.A = R.A)",
    "SELECT * FROM S [PARTITION BY A ROWS 3] WHERE C LIKE 'x%' UNION SELECT * FROM S [ROWS 5]",
    "EXPLAIN PLAN FOR SELECT DISTINCT A / 2 FROM S",
    "CREATE STREAM T (x INTEGER) WITH (timestamp = 'x')",
    "SELECT * FROM S [NOW] WHERE CASE WHEN A > 1 THEN CAST(B AS INTEGER) ELSE 0 END > ?",
    "SELECT * FROM Nope",
    "INSERT INTO S (ROWTIME, A, C) VALUES (TIMESTAMP '2024-01-01 00:00:00', 1, '東京'), (?, 2, ?)",
    "ALTER STREAM S HEARTBEAT 1704067205000",
  };

  /** Runs every statement once; prints nothing unless the planner fails internally. */
  public static void main(String[] args) {
    for (String sql : STATEMENTS) {
      String answer = CqlPlanner.analyze(sql, CATALOG, "{}");
      if (answer.contains("\"internal\"")) {
        System.err.println("warm-up statement failed: " + sql + " -> " + answer);
      }
    }
  }
}
