import {transferCommand} from '../transfer-command.js';

export default transferCommand('push', {
  summary: 'Push an image to a hub registry through the Docker engine, with a fresh token.',
  description:
    'A bare name goes to your namespace: `hub push myapp:1.0` means REGISTRY/USERNAME/myapp:1.0 (the local image is tagged so first). A name with a registry is used as it is.',
});
