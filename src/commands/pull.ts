import {transferCommand} from '../transfer-command.js';

export default transferCommand('pull', {
  summary: 'Pull an image from a hub registry through the Docker engine, with a fresh token.',
  description:
    'A bare name goes to your namespace: `hub pull myapp:1.0` means REGISTRY/USERNAME/myapp:1.0. A name with a registry is used as it is.',
});
