package io.pycql.planner.ddl;

import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlCreate;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * {@code CREATE STREAM [IF NOT EXISTS] name (col type, ...) [WITH (k = 'v', ...)]} or
 * {@code CREATE TABLE [IF NOT EXISTS] name (col type, ..., PRIMARY KEY (a)) [WITH (...)]}.
 */
public final class SqlCreateCqlSource extends SqlCreate {
  private static final SqlOperator OPERATOR =
      new SqlSpecialOperator("CREATE SOURCE", SqlKind.OTHER_DDL);

  public final boolean stream;
  public final SqlIdentifier name;
  public final List<CqlColumnDef> columns;
  /** PRIMARY KEY column names; empty if none was given. */
  public final SqlNodeList primaryKey;
  /** The WITH (key = 'value') pairs, keys lower-case, in order. */
  public final Map<String, String> options;

  public SqlCreateCqlSource(SqlParserPos pos, boolean replace, boolean stream, boolean ifNotExists,
      SqlIdentifier name, List<CqlColumnDef> columns, SqlNodeList primaryKey,
      Map<String, String> options) {
    super(OPERATOR, pos, replace, ifNotExists);
    this.stream = stream;
    this.name = name;
    this.columns = List.copyOf(columns);
    this.primaryKey = primaryKey;
    this.options = options;
  }

  @Override public List<SqlNode> getOperandList() {
    return List.of(name);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("CREATE");
    writer.keyword(stream ? "STREAM" : "TABLE");
    name.unparse(writer, 0, 0);
  }
}
