// Input the schema refuses is described by where it is and what is wrong, never quoted. graphql-js
// puts the refused value in its messages ('Variable "$key" got invalid value "<the key>"', 'found
// "<literal>"', 'Int cannot represent ...: <value>'), which would hand back an index key (a
// 62-digit hex key is 31 of its 32 bytes), vectors, ids and metadata. This plugin rewrites those
// errors, over HTTP and WebSockets alike: a variable's are rebuilt by coercing it again (only
// when it already failed, so good requests pay nothing) with a path such as
// items[3].vector[7]; a literal's keep their location in the query. Only messages of our own
// scalars (BadUserInputError) are passed on, since they are written never to quote the value.

import {
  coerceInputValue,
  getNamedType,
  GraphQLError,
  type GraphQLInputType,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  Kind,
  type ExecutionArgs,
  type ExecutionResult,
  type VariableDefinitionNode,
  typeFromAST,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { BAD_USER_INPUT, BadUserInputError } from '../../graphql/scalars/bad-user-input.js';

const VARIABLE_ERROR = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value /;
const LITERAL_ERROR = /^Expected value of type "([^"]+)", found /;

function isOurs(error: unknown): boolean {
  return error instanceof GraphQLError && error.extensions?.code === BAD_USER_INPUT;
}

/** The named type found by following `path` (field names and list positions) into `type`. */
function typeAt(type: GraphQLInputType, path: ReadonlyArray<string | number>): GraphQLNamedType {
  let current: GraphQLInputType = type;
  for (const step of path) {
    if (isNonNullType(current)) current = current.ofType;
    if (isListType(current) && typeof step === 'number') current = current.ofType;
    else if (isInputObjectType(current) && typeof step === 'string') current = current.getFields()[step]?.type ?? current;
  }
  return getNamedType(current);
}

function printPath(variable: string, path: ReadonlyArray<string | number>): string {
  return variable + path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('');
}

/** What is wrong, in words that never include the value. */
function problem(error: GraphQLError, invalidValue: unknown, type: GraphQLNamedType): string {
  if (isOurs(error)) return error.message;
  if (invalidValue === null) return `must not be null (${type.name})`;
  if (isEnumType(type)) return `not a value of the ${type.name} enum`;
  if (isLeafType(type)) return `not a valid ${type.name} value`;
  if (/ is not defined by type /.test(error.message)) return `holds a field that ${type.name} does not define`;
  if (/ to be an object\.$/.test(error.message)) return `must be an object (${type.name})`;
  // "Field "vector" of required type "Vector!" was not provided." names the schema, not the value.
  return error.message.replace(/\s*Did you mean[\s\S]*$/, '');
}

function variableErrors(args: ExecutionArgs, definition: VariableDefinitionNode, original: GraphQLError): GraphQLError[] {
  const name = definition.variable.name.value;
  const type = typeFromAST(args.schema, definition.type) as GraphQLInputType | undefined;
  if (type === undefined) return [original];
  const errors: GraphQLError[] = [];
  coerceInputValue(args.variableValues?.[name], type, (path, invalidValue, error) => {
    const at = error instanceof BadUserInputError ? error.at : '';
    const where = path.length > 0 || at !== '' ? ` at ${printPath(name, path)}${at}` : '';
    errors.push(
      new GraphQLError(`Variable "$${name}" got an invalid value${where}: ${problem(error, invalidValue, typeAt(type, path))}`, {
        nodes: original.nodes,
        // yoga's extensions (the 400 of a request error) stay.
        extensions: { ...original.extensions, code: BAD_USER_INPUT },
      }),
    );
  });
  // Coercion failed the first time, so it fails again; should it not, say so without the value.
  return errors.length > 0 ? errors : [new GraphQLError(`Variable "$${name}" got an invalid value.`, { nodes: original.nodes, extensions: { ...original.extensions, code: BAD_USER_INPUT } })];
}

function variableDefinitions(args: ExecutionArgs): Map<string, VariableDefinitionNode> {
  const operations = args.document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
  const operation = operations.find((op) => args.operationName == null || op.name?.value === args.operationName);
  return new Map((operation?.variableDefinitions ?? []).map((definition) => [definition.variable.name.value, definition]));
}

/** Replaces every variable-coercion error by the redacted errors of its variable. */
export function redactVariableErrors(args: ExecutionArgs, errors: readonly GraphQLError[]): GraphQLError[] {
  if (!errors.some((error) => VARIABLE_ERROR.test(error.message))) return [...errors];
  const definitions = variableDefinitions(args);
  const done = new Set<string>();
  const redacted: GraphQLError[] = [];
  for (const error of errors) {
    const name = VARIABLE_ERROR.exec(error.message)?.[1];
    if (name === undefined) {
      redacted.push(error);
      continue;
    }
    if (done.has(name)) continue;
    done.add(name);
    const definition = definitions.get(name);
    redacted.push(...(definition ? variableErrors(args, definition, error) : [new GraphQLError(`Variable "$${name}" got an invalid value.`, { nodes: error.nodes, extensions: error.extensions })]));
  }
  return redacted;
}

const ENUM_ERROR = /"(\w+)" enum\b|^Enum "(\w+)"/;
const VALUE_KINDS: ReadonlySet<string> = new Set([Kind.INT, Kind.FLOAT, Kind.STRING, Kind.BOOLEAN, Kind.NULL, Kind.ENUM, Kind.LIST, Kind.OBJECT]);

/**
 * A literal's error keeps its location (in `locations`) and loses the quoted literal. graphql-js
 * reports a GraphQLError thrown by parseLiteral as it is ('Value "X" does not exist in "E" enum',
 * 'Int cannot represent ...: X') and wraps others as 'Expected value of type "T", found X'.
 */
export function redactLiteralError(error: GraphQLError): GraphQLError {
  const node = error.nodes?.[0];
  if (node === undefined || !VALUE_KINDS.has(node.kind) || isOurs(error)) return error;
  const expected = LITERAL_ERROR.exec(error.message)?.[1];
  const cause = error.originalError;
  let message: string;
  if (expected !== undefined) message = `Expected value of type "${expected}"${cause !== undefined && isOurs(cause) ? `: ${cause.message}` : '.'}`;
  else if (ENUM_ERROR.test(error.message)) {
    const [, name, other] = ENUM_ERROR.exec(error.message)!;
    message = `The value is not a value of the ${name ?? other} enum.`;
  }
  else if (/^(\w+) cannot represent/.test(error.message)) message = `The value is not a valid ${/^(\w+)/.exec(error.message)![1]}.`;
  else message = 'The value is not valid here.';
  return new GraphQLError(message, { nodes: error.nodes, extensions: error.extensions });
}

function redactResult(args: ExecutionArgs, result: ExecutionResult, setResult: (result: ExecutionResult) => void): void {
  if (result.errors === undefined || result.errors.length === 0 || result.data != null) return;
  setResult({ ...result, errors: redactVariableErrors(args, result.errors) });
}

export function useInputErrorRedaction(): Plugin {
  return {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((error) => (error instanceof GraphQLError ? redactLiteralError(error) : error)));
      };
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) redactResult(args, result, setResult);
        },
      };
    },
    onSubscribe({ args }) {
      return {
        onSubscribeResult({ result, setResult }) {
          if (!(Symbol.asyncIterator in result)) redactResult(args, result, setResult);
        },
      };
    },
  };
}
