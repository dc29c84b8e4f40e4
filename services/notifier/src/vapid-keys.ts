/**
 * Prints a new VAPID key pair as environment lines (`npm run vapid-keys -w services/notifier`):
 * the notifier needs all three, the website only VAPID_PUBLIC_KEY (the browser's applicationServerKey).
 */
import { generateVapidKeys } from './web-push.ts';

const { publicKey, privateKey } = generateVapidKeys();
const subject = process.argv[2] ?? 'mailto:ops@example.com';
process.stdout.write(`VAPID_PUBLIC_KEY=${publicKey}\nVAPID_PRIVATE_KEY=${privateKey}\nVAPID_SUBJECT=${subject}\n`);
