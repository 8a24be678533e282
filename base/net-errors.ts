// Socket errors in words a user understands, for the checks that open their own connections (tcp, certificate).

export function connectError(err: NodeJS.ErrnoException, where: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where} (nothing listens there)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve host ${where.replace(/:\d+$/, '')}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable`;
    case 'ECONNRESET':
      return `connection to ${where} was reset`;
    default:
      return `cannot connect to ${where}: ${err.message}`;
  }
}
