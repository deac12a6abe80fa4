package io.pycql.planner.rel;

/** The three CQL relation-to-stream operators. */
public enum RelToStreamKind { ISTREAM, DSTREAM, RSTREAM }
