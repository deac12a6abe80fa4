package io.pycql.planner.validate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlOperatorTable;
import org.apache.calcite.sql.fun.SqlLibrary;
import org.apache.calcite.sql.fun.SqlLibraryOperatorTableFactory;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.util.SqlOperatorTables;

/**
 * The validator's functions: Calcite's standard operators plus, from its library operator
 * tables, the functions people reach for from PostgreSQL, MySQL and Oracle. Where two
 * libraries define a function of the same name differently, one library is chosen per name
 * (the runtime implements exactly that one; docs/cql.md lists each with its semantics):
 * CONCAT ignores NULLs (PostgreSQL, Oracle), GREATEST/LEAST are NULL when an argument is
 * (Oracle, MySQL), REGEXP_REPLACE replaces every match (Oracle, MySQL).
 */
public final class CqlOperatorTable {
  /** Function name to the library whose definition of it is taken. */
  private static final Map<String, SqlLibrary> CHOSEN = new LinkedHashMap<>();

  static {
    for (String name : List.of("CONCAT", "CONCAT_WS", "LEFT", "RIGHT", "LPAD", "RPAD",
        "LENGTH", "STRPOS", "SPLIT_PART", "REPEAT", "STARTS_WITH", "MD5", "SHA1", "SHA256", "SHA512", "TRANSLATE3", "CHR", "ILIKE",
        "NOT ILIKE", "SINH", "COSH", "TANH", "STRING_AGG")) {
      CHOSEN.put(name, SqlLibrary.POSTGRESQL);
    }
    for (String name : List.of("GREATEST", "LEAST", "NVL", "NVL2", "INSTR", "REGEXP_REPLACE",
        "REGEXP_LIKE", "SUBSTR", "LTRIM", "RTRIM", "ADD_MONTHS", "DECODE", "TO_CHAR", "TO_DATE", "TO_TIMESTAMP")) {
      CHOSEN.put(name, SqlLibrary.ORACLE);
    }
    for (String name : List.of("REVERSE", "LOG2", "SPACE", "DAYNAME", "MONTHNAME",
        "TO_BASE64")) {
      CHOSEN.put(name, SqlLibrary.MYSQL);
    }
    for (String name : List.of("IFNULL", "ENDS_WITH", "REGEXP_SUBSTR", "IF")) {
      CHOSEN.put(name, SqlLibrary.BIG_QUERY);
    }
  }

  public static final SqlOperatorTable INSTANCE = build();

  private CqlOperatorTable() {
  }

  private static SqlOperatorTable build() {
    List<SqlOperator> ops = new ArrayList<>();
    for (Map.Entry<String, SqlLibrary> e : CHOSEN.entrySet()) {
      SqlOperatorTable lib =
          SqlLibraryOperatorTableFactory.INSTANCE.getOperatorTable(e.getValue());
      for (SqlOperator op : lib.getOperatorList()) {
        // by identity: SqlOperator.equals takes a library's overloads of a name for one
        if (op.getName().equals(e.getKey()) && ops.stream().noneMatch(o -> o == op)) {
          ops.add(op);
        }
      }
    }
    ops.add(DateTruncFunction.INSTANCE);
    return SqlOperatorTables.chain(SqlStdOperatorTable.instance(), SqlOperatorTables.of(ops));
  }

  /** The names of the library functions (for error messages and documentation). */
  public static List<String> libraryNames() {
    return List.copyOf(CHOSEN.keySet());
  }

  /** The names of every function the validator knows (standard and library), sorted. */
  public static java.util.SortedSet<String> functionNames() {
    java.util.SortedSet<String> names = new java.util.TreeSet<>();
    for (SqlOperator op : INSTANCE.getOperatorList()) {
      if (op instanceof org.apache.calcite.sql.SqlFunction && op.getName().matches("[A-Z_0-9]+")
          && !op.getName().startsWith("$")) {
        names.add(op.getName().equals("TRANSLATE3") ? "TRANSLATE" : op.getName());
      }
    }
    return names;
  }
}
