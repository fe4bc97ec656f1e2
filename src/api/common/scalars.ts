export { DateTimeResolver as DateTime, JSONResolver as JSON } from 'graphql-scalars';
