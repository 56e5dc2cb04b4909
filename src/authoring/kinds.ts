import type * as apps from 'kubernetes-types/apps/v1.js';
import type * as batch from 'kubernetes-types/batch/v1.js';
import type * as core from 'kubernetes-types/core/v1.js';
import type * as networking from 'kubernetes-types/networking/v1.js';
import type * as policy from 'kubernetes-types/policy/v1.js';
import type * as rbac from 'kubernetes-types/rbac/v1.js';
import type * as storage from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../model/index.js';

/**
 * Typed by kind: a policy's `match.kinds` decides the type of the object its `validate` receives, the way Pepr's
 * `When(a.Pod)` types its callback. Built-in kinds get their kubernetes-types type (by bare name or group-qualified:
 * `Deployment` or `apps/Deployment`); any other kind (a CRD such as `networking.istio.io/DestinationRule`) gets a
 * loose object. The types say what a well-formed object looks like; the engine does not validate objects against
 * them, so policies compare values (`=== true`) rather than trust them, and the pod/container views guard the
 * fields they hand out (see pod.ts).
 */

/** A pod controller: what a policy on `Pod` also receives (autogen judges its pod template). */
export type PodController =
  | apps.Deployment
  | apps.StatefulSet
  | apps.DaemonSet
  | apps.ReplicaSet
  | core.ReplicationController
  | batch.Job
  | batch.CronJob
  | core.PodTemplate;

/** The built-in kinds with a type, by the name `match.kinds` uses. */
export interface KindTypes {
  Pod: core.Pod | PodController;
  Namespace: core.Namespace;
  Service: core.Service;
  ServiceAccount: core.ServiceAccount;
  ConfigMap: core.ConfigMap;
  Secret: core.Secret;
  PersistentVolume: core.PersistentVolume;
  PersistentVolumeClaim: core.PersistentVolumeClaim;
  Node: core.Node;
  LimitRange: core.LimitRange;
  ResourceQuota: core.ResourceQuota;
  Endpoints: core.Endpoints;
  ReplicationController: core.ReplicationController;
  PodTemplate: core.PodTemplate;
  Deployment: apps.Deployment;
  'apps/Deployment': apps.Deployment;
  StatefulSet: apps.StatefulSet;
  'apps/StatefulSet': apps.StatefulSet;
  DaemonSet: apps.DaemonSet;
  'apps/DaemonSet': apps.DaemonSet;
  ReplicaSet: apps.ReplicaSet;
  'apps/ReplicaSet': apps.ReplicaSet;
  Job: batch.Job;
  'batch/Job': batch.Job;
  CronJob: batch.CronJob;
  'batch/CronJob': batch.CronJob;
  NetworkPolicy: networking.NetworkPolicy;
  'networking.k8s.io/NetworkPolicy': networking.NetworkPolicy;
  Ingress: networking.Ingress;
  'networking.k8s.io/Ingress': networking.Ingress;
  PodDisruptionBudget: policy.PodDisruptionBudget;
  'policy/PodDisruptionBudget': policy.PodDisruptionBudget;
  Role: rbac.Role;
  'rbac.authorization.k8s.io/Role': rbac.Role;
  ClusterRole: rbac.ClusterRole;
  'rbac.authorization.k8s.io/ClusterRole': rbac.ClusterRole;
  RoleBinding: rbac.RoleBinding;
  'rbac.authorization.k8s.io/RoleBinding': rbac.RoleBinding;
  ClusterRoleBinding: rbac.ClusterRoleBinding;
  'rbac.authorization.k8s.io/ClusterRoleBinding': rbac.ClusterRoleBinding;
  StorageClass: storage.StorageClass;
  'storage.k8s.io/StorageClass': storage.StorageClass;
}

/** An object of a kind without a built-in type (a CRD): its fields are there, unknown until read and checked. */
export interface CustomObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

/** The object type for one entry of `match.kinds`. */
export type ObjectOfKind<K extends string> = K extends '*' ? KubeObject : K extends keyof KindTypes ? KubeObject & KindTypes[K] : CustomObject;

/** The object type for a whole `match.kinds` list (a union; `KubeObject` when the list is not a literal). */
export type ObjectFor<K extends readonly string[]> = string extends K[number] ? KubeObject : ObjectOfKind<K[number]>;
