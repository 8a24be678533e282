import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, NoTokenScreen } from './App.js';
import { ClientProvider } from './state.js';
import { applyStoredTheme } from './theme.js';
import { createClient } from './transport/connect.js';
import './styles.css';

applyStoredTheme();
const root = createRoot(document.getElementById('root')!);
const made = createClient();
if (!made.client) {
  root.render(<NoTokenScreen />);
} else {
  made.client.start();
  root.render(
    <StrictMode>
      <ClientProvider client={made.client}>
        <App />
      </ClientProvider>
    </StrictMode>,
  );
}
